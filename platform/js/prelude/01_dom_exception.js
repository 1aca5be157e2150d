  // ---- DOMException --------------------------------------------------------------------------
  const DOM_CODES = {IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9,
    InvalidStateError: 11, SyntaxError: 12, InvalidCharacterError: 5, TypeMismatchError: 17,
    AbortError: 20, TimeoutError: 23, DataCloneError: 25, QuotaExceededError: 22};
  class DOMException extends Error {
    #name;
    constructor(message = '', name = 'Error') {
      super(message);
      this.#name = String(name);
    }
    get name() { return this.#name; }
    get code() { return DOM_CODES[this.#name] || 0; }
  }
  define(g, 'DOMException', DOMException);

