namespace Portal.Components;

/// <summary>
/// Marks a page that is always rendered statically on the server (no circuit), because it needs the
/// <see cref="HttpContext"/> — sign-in pages set cookies. App.razor reads it from the endpoint.
/// This is .NET 8's stand-in for .NET 9's <c>[ExcludeFromInteractiveRouting]</c>; swap it on the move.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class StaticRenderAttribute : Attribute;
