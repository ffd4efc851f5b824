; Rust: items, impl blocks, use declarations, calls and macro calls.

(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function

(struct_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(union_item name: (type_identifier) @name) @def.union
(trait_item name: (type_identifier) @name) @def.trait
(type_item name: (type_identifier) @name) @def.alias
(impl_item type: (_) @name) @def.impl
(mod_item name: (identifier) @name) @def.namespace

(const_item name: (identifier) @name) @def.constant
(static_item name: (identifier) @name) @def.constant

(field_declaration name: (field_identifier) @name) @def.field
(enum_variant name: (identifier) @name) @def.field

(use_declaration argument: (_) @import.module) @import

(call_expression function: (_) @call.name) @call
(macro_invocation macro: (_) @call.name) @call
