; TypeScript and TSX: the JavaScript facts plus interfaces, type aliases, enums,
; namespaces and signatures.

(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(method_definition name: (_) @name) @def.function
(method_signature name: (_) @name) @def.function
(abstract_method_signature name: (_) @name) @def.function
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @def.function

(class_declaration name: (_) @name) @def.class
(abstract_class_declaration name: (_) @name) @def.class
(interface_declaration name: (_) @name) @def.interface
(type_alias_declaration name: (_) @name) @def.alias
(enum_declaration name: (_) @name) @def.enum
(internal_module name: (_) @name) @def.namespace
(module name: (_) @name) @def.namespace

(public_field_definition name: (_) @name) @def.field
(interface_declaration body: (interface_body (property_signature name: (_) @name) @def.field))
(enum_body [(property_identifier) @name (enum_assignment name: (_) @name)] @def.constant)

(program (lexical_declaration "const" (variable_declarator name: (identifier) @name) @def.constant))
(program (export_statement declaration: (lexical_declaration "const"
  (variable_declarator name: (identifier) @name) @def.constant)))

; CommonJS and prototype style: `res.send = function send() {}`, `Foo.prototype.bar = () => {}`
(assignment_expression
  left: (member_expression object: [(identifier) (member_expression)]) @name
  right: [(arrow_function) (function_expression) (generator_function)]) @def.function

(import_statement source: (string) @import.module) @import
; CommonJS: `const x = require("x")`, `const { a, b: c } = require("x")`
(call_expression
  function: (identifier) @_require
  arguments: (arguments . (string) @import.module .)
  (#eq? @_require "require")) @import

(call_expression function: (_) @call.name) @call
(new_expression constructor: (_)) @call
