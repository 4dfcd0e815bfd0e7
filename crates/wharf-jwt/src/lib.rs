//! Verifies bearer JWTs from an external identity provider (OIDC access or
//! ID tokens), so Wharf can accept them next to its own `wharf_` API tokens.
//!
//! - Algorithms: RS256 and ES256 with keys from the provider's JWKS; HS256
//!   only with a configured shared secret. Nothing else, `none` included.
//! - Claims: `iss` exact, `aud` exactly ours, `exp` and `iat` required,
//!   `nbf` honoured, all with a bounded clock skew.
//! - Keys: cached by `kid`, refreshed once for an unknown `kid` and then
//!   not again until a cooldown passes (see `cache`).
//!
//! Mapping claims to a Wharf user is the server's job: see
//! [`VerifiedClaims::string_claim`].

mod cache;
mod claims;
mod error;
mod fetch;
mod jwks;
mod settings;
mod token;
mod verifier;

pub use claims::VerifiedClaims;
pub use error::{JwtConfigError, JwtError};
pub use settings::JwtSettings;
pub use token::looks_like_jwt;
pub use verifier::JwtVerifier;
