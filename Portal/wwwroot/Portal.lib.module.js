// Blazor's JavaScript initializer for this app: blazor.web.js imports this module once per document
// on every page, static or interactive, so page scripts that must survive enhanced navigation load here.
export function afterWebStarted() {
    import("./docs.js");
}
