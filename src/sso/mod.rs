//! Single sign-on of managers through their company's own identity provider (SPEC 5,
//! issue 11). The settings live in `service::sso`; here is the sign-in: the routes
//! ([`routes`]: `/sso/{account}/start`, `/sso/callback`), the flow ([`flow`]: pending
//! sign-ins, matching, completion codes), the session it ends in ([`session`]), linking an
//! identity by the manager itself ([`link`]), OpenID Connect itself ([`oidc`], on the
//! `openidconnect` crate, over a bounded [`http_client`]) and the client secret sealed at
//! rest ([`sealed`]).
//!
//! Unlike other domains, the sign-in's sea-orm work lives here rather than in
//! `src/service/`: it is one HTTP flow with its own tables (pending sign-ins, completion
//! codes, links), not rules over the organization; the settings, which are such rules, are in
//! `service::sso`.
//!
//! Where things go: another kind of upstream provider (SAML, say) is a sibling of [`oidc`]
//! with its own `account_sso.kind`, chosen in [`flow`] where it calls `oidc.start` and
//! `oidc.finish` (both answer the same `Identity` and `Reason`s); routes, pending sign-ins,
//! matching, completion codes and sessions stay as they are. A sign-in ends in an ordinary
//! manager session, so requests are still recognized by the session-token plugin: a new kind
//! of *credential on requests* is a plugin of the auth chain (`src/auth/plugin.rs`), not
//! something here.

pub mod flow;
pub mod http_client;
pub mod link;
pub mod oidc;
pub mod routes;
pub mod sealed;
pub mod session;
