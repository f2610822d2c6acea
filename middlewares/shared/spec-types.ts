/**
 * What a value's options may make of it, as types. Options written as literals say exactly what
 * they are; options typed wider (a spec typed `ParameterOptions`, a record of specs, `optional`
 * known only at run time) may be any of the values their type allows, and so may the value.
 */

/** Whether option `K` of the options `S` may be `V`. */
export type MayBe<S, K extends PropertyKey, V> = K extends keyof S ? (V extends S[K] ? true : false) : false

/** Whether the options `S` may leave option `K` out. */
export type MayOmit<S, K extends PropertyKey> = K extends keyof S ? (undefined extends S[K] ? true : false) : true

/** `value`, or undefined as well where `optional` may be true: what a value not found gives. */
export type MaybeMissing<S, Value> = MayBe<S, 'optional', true> extends true ? Value | undefined : Value
