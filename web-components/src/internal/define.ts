/**
 * Registers a custom element unless the tag is already taken: importing two entry points,
 * or the ESM build next to the script-tag build, is harmless.
 */
export function define(tag: string, element: CustomElementConstructor): void {
  if (typeof customElements !== 'undefined' && !customElements.get(tag)) customElements.define(tag, element);
}
