// <passkey-submit operation="create|request"> inside a form: when the form's passkey button
// (name="__passkeySubmit") is pressed, asks the server for WebAuthn options, lets the browser's
// authenticator make or use a passkey, and posts the form with the result as Passkey.CredentialJson
// (or Passkey.Error). The server checks everything (Identity's passkey APIs); this only carries it.
// Loaded on every page: custom elements upgrade whenever a page shows one, enhanced navigation too.
(() => {
    const supported = typeof navigator.credentials !== "undefined"
        && typeof window.PublicKeyCredential !== "undefined"
        && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
        && typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

    // The form's antiforgery token goes along as the header ASP.NET Core reads.
    async function options(operation, form, signal) {
        const token = form.querySelector("input[name=__RequestVerificationToken]")?.value ?? "";
        const response = await fetch(`/account/passkey/${operation}-options`, {
            method: "POST", credentials: "same-origin", headers: { "RequestVerificationToken": token }, signal,
        });
        if (!response.ok) {
            throw new Error(`The server answered ${response.status}.`);
        }
        return await response.json();
    }

    async function credential(operation, form, signal) {
        if (!supported) {
            throw new Error("This browser cannot use passkeys.");
        }
        const json = await options(operation, form, signal);
        return operation === "creation"
            ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(json), signal })
            : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(json), signal });
    }

    customElements.define("passkey-submit", class extends HTMLElement {
        static formAssociated = true;

        connectedCallback() {
            this.internals = this.attachInternals();
            const form = this.internals.form;
            form?.addEventListener("submit", event => {
                if (event.submitter?.name === "__passkeySubmit") {
                    event.preventDefault();
                    this.run(form);
                }
            });
        }

        disconnectedCallback() {
            this.abort?.abort();
        }

        async run(form) {
            this.abort?.abort();
            this.abort = new AbortController();
            const operation = this.getAttribute("operation") === "create" ? "creation" : "request";
            const data = new FormData();
            try {
                data.append("Passkey.CredentialJson", JSON.stringify(await credential(operation, form, this.abort.signal)));
            } catch (error) {
                if (error.name === "AbortError") {
                    return;
                }
                data.append("Passkey.Error", error.name === "NotAllowedError" ? "cancelled" : "failed");
            }
            this.internals.setFormValue(data);
            form.submit();
        }
    });
})();
