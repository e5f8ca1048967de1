/**
 * Lookups over MESSAGE_TABLE, built once at load: by type number, by variant
 * kind, by type name.
 */
import type { MessageSpec, VariantSpec } from './layout.js';
import { MESSAGE_TABLE } from './table.js';
import type { MessageKind, MessageTypeName, MessageTypeNumbers } from './types.js';

const SPECS: readonly MessageSpec[] = MESSAGE_TABLE;

const SPEC_BY_TYPE = new Map<number, MessageSpec>(SPECS.map((spec) => [spec.type, spec]));
const SPEC_BY_NAME = new Map<string, MessageSpec>(SPECS.map((spec) => [spec.name, spec]));
const VARIANT_BY_KIND = new Map<string, { readonly spec: MessageSpec; readonly variant: VariantSpec }>(
  SPECS.flatMap((spec) => spec.variants.map((variant) => [variant.kind, { spec, variant }] as const)),
);

/** Message type numbers by name, like OpenVMM's `MessageType` open enum: `MESSAGE_TYPE.GPADL_HEADER === 8`. */
export const MESSAGE_TYPE = Object.freeze(
  Object.fromEntries(SPECS.map((spec) => [spec.name, spec.type])),
) as MessageTypeNumbers;

/** The table entry of a type number, or undefined for a type VMBus does not define. */
export function messageSpecOfType(type: number): MessageSpec | undefined {
  return SPEC_BY_TYPE.get(type);
}

/** The table entry of a type name. */
export function messageSpecOfName(name: MessageTypeName): MessageSpec {
  // Every MessageTypeName comes from the table, so the entry exists.
  return SPEC_BY_NAME.get(name)!;
}

/** The variant (and its message type) of a kind, or undefined for a string that is no kind. */
export function variantOfKind(kind: string): { readonly spec: MessageSpec; readonly variant: VariantSpec } | undefined {
  return VARIANT_BY_KIND.get(kind);
}

/** The message type number a variant is sent with: `messageTypeOf('OpenChannel2') === 5`. */
export function messageTypeOf(kind: MessageKind): number {
  // Every MessageKind comes from the table, so the variant exists.
  return VARIANT_BY_KIND.get(kind)!.spec.type;
}
