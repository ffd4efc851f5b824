; JavaScript: functions, arrow functions bound to names, classes, imports, calls.

(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (_) @name) @def.function
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @def.function

(class_declaration name: (identifier) @name) @def.class

(field_definition property: (_) @name) @def.field

; top-level `const NAME = value`
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
