//! Security headers on every response: no framing, no referrer (survey tokens are in URLs), no
//! third-party anything, no MIME sniffing. Pages that need more (e.g. inline chart SVG) still fit
//! this policy: styles and scripts are served from `'self'` or inlined with a hash.

use actix_web::middleware::DefaultHeaders;

/// The Content-Security-Policy of every page: only this origin, nothing framed, forms post here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The headers middleware; wraps the whole route table.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
}
