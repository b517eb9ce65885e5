// Small browser helpers that Blazor components call through JS interop, as portal.<name>(…).
window.portal = window.portal || {};

// Copies text to the clipboard; resolves to false when the browser refuses, so the caller can ask
// the user to copy by hand. navigator.clipboard needs a secure context (https or localhost); on
// plain http elsewhere the older execCommand route is tried instead.
window.portal.copy = async function (text) {
    try {
        if (navigator.clipboard && window.isSecureContext) {
            await navigator.clipboard.writeText(text);
            return true;
        }
    } catch {
        // fall through to the older route
    }

    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try {
        return document.execCommand("copy");
    } catch {
        return false;
    } finally {
        area.remove();
    }
};

// Theme (Portal/Components/Theme/ThemePreference.cs): the server renders light or dark from two
// cookies, the person's choice and, failing that, the system's setting, which is written here on
// every page load and whenever it changes, so the next page comes out right without a flash.
window.portal.setTheme = function (mode) {
    document.cookie = "portal-theme=" + mode + "; path=/; max-age=31536000; samesite=lax";
};
(function () {
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const write = () => {
        document.cookie = "portal-system-theme=" + (media.matches ? "dark" : "light") + "; path=/; max-age=31536000; samesite=lax";
    };
    write();
    media.addEventListener("change", write);
})();

// Hands text to the browser as a file download, without it ever being at an address on the server:
// a batch's redemption codes are downloaded once this way from the admin page (ADR 29).
window.portal.download = function (fileName, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type || "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
};
