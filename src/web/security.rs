//! Security headers on every response: no framing, no referrer (survey tokens are in URLs), no
//! third-party anything, no MIME sniffing. Pages that need more (e.g. inline chart SVG) still fit
//! this policy: styles and scripts are served from `'self'` or inlined with a hash. A response that
//! sets its own policy keeps it (the middleware adds only headers that are missing).

use actix_web::middleware::DefaultHeaders;

/// The Content-Security-Policy of every page: only this origin, nothing framed, forms post here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The policy of a self-contained published page (the method page): nothing may load, and the one
/// inline stylesheet `style` runs because its hash is named. The other headers are the defaults.
pub fn self_contained_policy(style: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

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
