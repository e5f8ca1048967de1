/** A whole number with thousands separators, e.g. `12,345,678`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A number with a fixed count of decimals and thousands separators, e.g. `1,234.5`. */
export function formatDecimal(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
