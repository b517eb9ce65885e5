using MudBlazor;

namespace Portal.Components.Theme;

/// <summary>Portal's look in MudBlazor terms: one indigo accent, quiet neutrals, both modes.</summary>
public static class PortalTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#4f46e5",
            PrimaryDarken = "#4338ca",
            Secondary = "#0f766e",
            Background = "#f6f7fb",
            Surface = "#ffffff",
            AppbarBackground = "#111827",
            AppbarText = "#e5e7eb",
            DrawerBackground = "#ffffff",
            TextPrimary = "#1b1f2a",
            TextSecondary = "#5d6478",
            LinesDefault = "#e3e6ef",
            TableLines = "#e3e6ef",
            Divider = "#e3e6ef",
            Error = "#b42318",
            Success = "#067647",
            Warning = "#b54708",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#818cf8",
            PrimaryContrastText = "#0f1117", // white on this indigo is about 3:1; dark text reads
            PrimaryDarken = "#6366f1",
            Secondary = "#2dd4bf",
            Background = "#0f1117",
            Surface = "#181b23",
            AppbarBackground = "#0b0d12",
            AppbarText = "#e5e7eb",
            DrawerBackground = "#181b23",
            TextPrimary = "#e6e8ee",
            TextSecondary = "#a0a7b8",
            LinesDefault = "#2a2f3a",
            TableLines = "#2a2f3a",
            Divider = "#2a2f3a",
            Error = "#f97066",
            Success = "#47cd89",
            Warning = "#fdb022",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
            },
            // Sentence-case buttons, as in the rest of Portal's wording.
            Button = new ButtonTypography { TextTransform = "none", FontWeight = "600" },
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px", AppbarHeight = "60px" },
    };
}
