/**
 * TypeScript types of decoded messages, computed from MESSAGE_TABLE: adding a
 * field or a variant to the table changes these types, with no other edit.
 */
import type { FieldValueByKind } from './layout.js';
import type { MESSAGE_TABLE } from './table.js';

type Table = typeof MESSAGE_TABLE;
type Entry = Table[number];
type Variant = Entry['variants'][number];

/** The OpenVMM struct name of every variant: `'OpenChannel2'`, `'VersionResponse3'`, ... */
export type MessageKind = Variant['kind'];
/** The OpenVMM message type names: `'OPEN_CHANNEL'`, ... */
export type MessageTypeName = Entry['name'];

type VariantOf<K extends MessageKind> = Extract<Variant, { readonly kind: K }>;
type ValueField<K extends MessageKind> = Exclude<VariantOf<K>['fields'][number], { readonly kind: 'pad' }>;

/**
 * The decoded form of a variant: `kind` plus one property per non-padding field.
 * Distributes over a union of kinds, so `MessageOfKind<MessageKind>` is ChannelMessage.
 */
export type MessageOfKind<K extends MessageKind> = K extends MessageKind
  ? Flatten<{ kind: K } & { [F in ValueField<K> as F['name']]: FieldValueByKind[F['kind']] }>
  : never;

/** One object type instead of an intersection, so editors show the fields. */
type Flatten<T> = { [P in keyof T]: T[P] };

/** Any decoded channel-management message, discriminated by `kind`. */
export type ChannelMessage = MessageOfKind<MessageKind>;

/** The variant kinds of one message type: `KindOfType<'VERSION_RESPONSE'>` = `'VersionResponse3' | ...`. */
export type KindOfType<N extends MessageTypeName> = Extract<Entry, { readonly name: N }>['variants'][number]['kind'];

/** The number of each message type, by name. */
export type MessageTypeNumbers = { readonly [E in Entry as E['name']]: E['type'] };
