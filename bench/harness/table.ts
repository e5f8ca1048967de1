/** A column of a human-readable table; numbers read best right-aligned. */
export interface TableColumn {
  readonly header: string;
  readonly align: 'left' | 'right';
}

/** A titled table a sub-benchmark prints for humans. */
export interface Table {
  readonly title: string;
  readonly columns: readonly TableColumn[];
  readonly rows: readonly (readonly string[])[];
}

/** Renders a table as aligned plain-text lines (no trailing newline). */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column, i) =>
    Math.max(column.header.length, ...table.rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    table.columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [table.title, line(table.columns.map((c) => c.header)), rule, ...table.rows.map(line)].join('\n');
}
