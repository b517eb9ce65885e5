using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Portal.Data;

namespace Portal.Account;

public static class AccountExtensions
{
    public const string LoginPath = "/login";
    public const string LogoutPath = "/logout";
    public const string AccessDeniedPath = "/access-denied";
    public static readonly TimeSpan SecurityCheckInterval = TimeSpan.FromMinutes(1);
    /// <summary>A sign-in lasts this long unused (sliding); the sessions list shows sessions seen within it.</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(14);

    public static IHostApplicationBuilder AddAccounts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<IdentityRedirectManager>();
        builder.Services.AddScoped<UserAccounts>();
        builder.Services.AddSingleton<AccountThrottle>();
        builder.Services.AddScoped<AuthenticationStateProvider, RevalidatingAuthStateProvider>();
        builder.Services.AddScoped<CurrentUser>();
        builder.Services.AddScoped<AccountEmails>();
        builder.Services.AddSingleton<AccountAudit>();
        builder.Services.AddSingleton<EmailVerification>();
        builder.Services.AddScoped<PasskeySignIn>();
        builder.Services.AddSingleton<UserSessions>();
        // The links in account mail (verify, reset, change email) expire after Accounts:EmailLinkMinutes.
        builder.Services.AddOptions<DataProtectionTokenProviderOptions>().Configure<Microsoft.Extensions.Options.IOptions<AccountOptions>>(
            (tokens, accounts) => tokens.TokenLifespan = TimeSpan.FromMinutes(accounts.Value.EmailLinkMinutes));

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        // Admin pages need the admin role and, when Accounts:RequireTwoFactorForAdmins says so, a second factor (ADR 27).
        AdminPolicy.Add(builder.Services.AddAuthorizationBuilder());
        builder.Services.AddScoped<IAuthorizationHandler, AdminTwoFactorHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, AdminTwoFactorRedirect>();

        builder.Services.AddIdentityCore<PortalUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                // An unverified account may sign in; what it may not do is create keys or spend (EmailVerification).
                options.SignIn.RequireConfirmedAccount = false;
                // Length over composition rules (NIST SP 800-63B): long passphrases, no forced symbols.
                options.Password.RequiredLength = 10;
                options.Password.RequiredUniqueChars = 4;
                options.Password.RequireDigit = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireUppercase = false;
                options.Password.RequireNonAlphanumeric = false;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = 5;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                // .NET 10's Identity schema (adds the passkeys table), as new .NET 10 apps have it.
                options.Stores.SchemaVersion = IdentitySchemaVersions.Version3;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();

        // A changed password or removed role ends other sessions within a minute, not Identity's default 30.
        builder.Services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = SecurityCheckInterval);
        builder.Services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = LoginPath;
            options.LogoutPath = LogoutPath;
            options.AccessDeniedPath = AccessDeniedPath;
            options.Cookie.Name = "portal.auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = CookieLifetime;
            // Each sign-in is a session in the store that the account can see and end (ADR 27);
            // Identity's security stamp check (set by AddIdentityCookies) runs first.
            var stampCheck = options.Events.OnValidatePrincipal;
            options.Events.OnSigningIn = context => context.HttpContext.RequestServices.GetRequiredService<UserSessions>().OnSigningInAsync(context);
            options.Events.OnSigningOut = context => context.HttpContext.RequestServices.GetRequiredService<UserSessions>().OnSigningOutAsync(context);
            options.Events.OnValidatePrincipal = async context =>
            {
                await stampCheck(context);
                if (context.Principal is not null)
                {
                    await context.HttpContext.RequestServices.GetRequiredService<UserSessions>().OnValidatePrincipalAsync(context);
                }
            };
        });
        return builder;
    }
}
