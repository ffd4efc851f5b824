; Bash: functions, commands as calls, `source` as imports, readonly/exported constants.

(function_definition name: (word) @name) @def.function

((command name: (command_name) @_c argument: (_) @import.module) @import
 (#any-of? @_c "source" "."))

(declaration_command (variable_assignment name: (variable_name) @name) @def.constant)

(command name: (command_name) @call.name) @call
