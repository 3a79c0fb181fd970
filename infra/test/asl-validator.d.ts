// Types of the asl-validator 4 package, which ships none.
declare module 'asl-validator' {
  interface ValidationResult {
    isValid: boolean;
    errors: Array<Record<string, unknown>>;
    errorsText(separator?: string): string;
  }
  function validate(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): ValidationResult;
  export = validate;
}
