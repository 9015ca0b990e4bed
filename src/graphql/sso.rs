//! `AccountSso`, `updateAccountSso` and `completeSsoLogin`: single sign-on through the
//! account's own OpenID Connect provider (SPEC 5). Settings are for company managers only;
//! the client secret is write-only (`clientSecretSet` tells whether one is stored).

use async_graphql::{Context, Enum, InputObject, Object};
use entity::account_sso::{self, IdentityClaim as Stored};

use super::{
    Manager, client, mutation_scope,
    scalars::{DateTime, Kind, to_id},
    session::LoginPayload,
    state,
};
use crate::{error::GqlResultExt, service};

/// What in the identity provider's ID token names a manager.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "SsoIdentityClaim")]
pub enum IdentityClaim {
    /// The `email` claim, only when the provider says `email_verified: true`; matched
    /// (case-insensitively) with the e-mail address of a manager of the account.
    Email,
    /// The `sub` claim, linked to a manager once: by a sign-in that matched on a verified
    /// e-mail address while the claim was `EMAIL`, or by the manager itself
    /// (`startSsoLink`, `completeSsoLink`).
    Sub,
}

impl From<Stored> for IdentityClaim {
    fn from(value: Stored) -> Self {
        match value {
            Stored::Email => IdentityClaim::Email,
            Stored::Sub => IdentityClaim::Sub,
        }
    }
}

impl From<IdentityClaim> for Stored {
    fn from(value: IdentityClaim) -> Self {
        match value {
            IdentityClaim::Email => Stored::Email,
            IdentityClaim::Sub => Stored::Sub,
        }
    }
}

/// The GraphQL object `AccountSso` (described on its `impl`).
pub struct AccountSso {
    pub row: account_sso::Model,
    /// This server's public URL (no trailing slash).
    pub base: String,
}

/// How the account's managers sign in through the company's OpenID Connect provider.
#[Object]
impl AccountSso {
    /// The provider's issuer URL, e.g. `https://login.example.com/realms/acme`. Its
    /// `/.well-known/openid-configuration` must name exactly this issuer.
    async fn issuer(&self) -> &str {
        &self.row.issuer
    }

    /// The client id this server has at the provider.
    async fn client_id(&self) -> &str {
        &self.row.client_id
    }

    /// Whether a client secret is stored. The secret itself is write-only.
    async fn client_secret_set(&self) -> bool {
        self.row.client_secret.is_some()
    }

    /// Whether the stored client secret can be used: `false` when none is stored, or when it
    /// was encrypted with a key this server no longer has (the operator changed
    /// `SESSION_SIGNING_KEY` or `SSO_SECRET_KEYS` without keeping the old key): enter it
    /// again.
    async fn client_secret_usable(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let sealer = &state(ctx)?.sso_sealer;
        Ok(self.row.client_secret.as_ref().is_some_and(|sealed| {
            sealer
                .open(
                    sealed,
                    &crate::sso::sealed::Binding {
                        account_id: self.row.account_id,
                        issuer: &self.row.issuer,
                        client_id: &self.row.client_id,
                    },
                )
                .is_ok()
        }))
    }

    /// What names a manager in the provider's ID token.
    async fn identity_claim(&self) -> IdentityClaim {
        self.row.identity_claim.into()
    }

    /// Whether managers may sign in through the provider.
    async fn enabled(&self) -> bool {
        self.row.enabled
    }

    /// Whether managers must: only company managers with `ssoBreakGlass` may still sign in
    /// with a password.
    async fn enforced(&self) -> bool {
        self.row.enforced
    }

    /// Where a sign-in may return to (`return_to` of the start URL): absolute URLs, each a
    /// prefix on a `/` boundary.
    async fn return_to_allow_list(&self) -> Vec<String> {
        service::sso::stored_allow_list(&self.row.return_to_allow_list)
    }

    /// The redirect URI to register at the provider (one for every account).
    async fn redirect_uri(&self) -> String {
        format!("{}/sso/callback", self.base)
    }

    /// Where the front end sends a browser to sign in: add `?return_to=<URL>`.
    async fn start_url(&self) -> String {
        format!(
            "{}/sso/{}/start",
            self.base,
            to_id(Kind::Account, self.row.account_id).0
        )
    }

    /// When the settings last changed.
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
}

/// Changes to the SSO settings; absent fields stay as they are. Setting up needs `issuer` and
/// `clientId`; enabling needs a client secret and a `returnToAllowList`; enforcing needs
/// `enabled` and a company manager with `ssoBreakGlass`.
#[derive(InputObject)]
pub struct UpdateAccountSsoInput {
    /// The issuer URL: `https` to a public address (plain `http` and private addresses only
    /// when the server sets `SSO_ALLOW_PRIVATE_NETWORKS`), no query.
    pub issuer: Option<String>,
    /// The client id registered at the provider.
    pub client_id: Option<String>,
    /// The client secret (write-only; stored encrypted). Needed again when `issuer` or
    /// `clientId` changes.
    #[graphql(secret)]
    pub client_secret: Option<String>,
    /// What names a manager in the ID token (default `EMAIL`).
    pub identity_claim: Option<IdentityClaim>,
    /// Whether managers may sign in through the provider. Off turns `enforced` off too.
    pub enabled: Option<bool>,
    /// Whether managers must (`DEPENDENCY_VIOLATION` unless `enabled`).
    pub enforced: Option<bool>,
    /// Where sign-ins may return to (replaces the list): at most 20 absolute `https` URLs.
    pub return_to_allow_list: Option<Vec<String>>,
}

/// `Debug` leaves the secret out.
impl std::fmt::Debug for UpdateAccountSsoInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateAccountSsoInput")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The settings as answered to a company manager.
pub(crate) fn answer(
    ctx: &Context<'_>,
    row: account_sso::Model,
) -> async_graphql::Result<AccountSso> {
    Ok(AccountSso {
        row,
        base: state(ctx)?.config.issuer().trim_end_matches('/').to_owned(),
    })
}

#[derive(Default)]
pub struct SsoMutation;

#[Object]
impl SsoMutation {
    /// Changes the account's single sign-on settings. Company managers only.
    async fn update_account_sso(
        &self,
        ctx: &Context<'_>,
        input: UpdateAccountSsoInput,
    ) -> async_graphql::Result<AccountSso> {
        let scope = mutation_scope(ctx)?;
        let row = service::sso::update(
            state(ctx)?,
            scope.access(),
            client(ctx),
            service::sso::SsoPatch {
                issuer: input.issuer,
                client_id: input.client_id,
                client_secret: input.client_secret,
                identity_claim: input.identity_claim.map(Into::into),
                enabled: input.enabled,
                enforced: input.enforced,
                return_to_allow_list: input.return_to_allow_list,
            },
        )
        .await
        .gql()?;
        answer(ctx, row)
    }

    /// Exchanges the one-time code a single sign-on brought back (`sso_code` in `return_to`)
    /// for a session, like `login`. Good for one attempt, for 60 seconds, and only with the
    /// verifier whose challenge the front end sent to `/sso/{account}/start`
    /// (`code_challenge`); `UNAUTHENTICATED` otherwise.
    async fn complete_sso_login(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The `sso_code` query parameter `return_to` was opened with.",
            secret
        )]
        code: String,
        #[graphql(
            desc = "The verifier the front end kept (43 to 128 characters of `A-Z a-z 0-9 - . _ ~`) \
                    whose base64url SHA-256 it sent to `/start` as `code_challenge`.",
            secret
        )]
        code_verifier: String,
    ) -> async_graphql::Result<LoginPayload> {
        let signed_in =
            crate::sso::session::complete(state(ctx)?, &code, &code_verifier, client(ctx))
                .await
                .gql()?;
        LoginPayload::new(ctx, signed_in)
    }

    /// Starts linking the signed-in manager's identity at the account's identity provider:
    /// needed once for `identityClaim: SUB` when the provider does not vouch for e-mail
    /// addresses (Entra ID). Answers the URL to open in the browser (good once, 30 minutes);
    /// the provider's answer comes back to `returnTo` with `sso_link_code`, which
    /// `completeSsoLink` takes. Company and team managers, with their own session.
    async fn start_sso_link(
        &self,
        ctx: &Context<'_>,
        return_to: Option<String>,
    ) -> async_graphql::Result<String> {
        let scope = mutation_scope(ctx)?;
        crate::sso::link::start_link(state(ctx)?, scope.access(), return_to.as_deref())
            .await
            .gql()
    }

    /// Removes every identity linked to the manager, so that with `identityClaim: SUB` it no
    /// longer signs in through the provider until it links again. Company managers for their
    /// account's managers, any other manager for itself; audited (`unlinkSsoIdentity`).
    async fn unlink_sso_identities(
        &self,
        ctx: &Context<'_>,
        manager_id: async_graphql::ID,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        let id = super::scalars::id_of(Kind::Manager, &manager_id);
        crate::sso::link::unlink(state(ctx)?, scope.access(), client(ctx), id)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }

    /// Links the identity the provider vouched for (the `sso_link_code` a link brought back)
    /// to the signed-in manager, which must be the one that started the link. Good once, for
    /// 60 seconds; `UNAUTHENTICATED` otherwise.
    async fn complete_sso_link(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Manager> {
        let scope = mutation_scope(ctx)?;
        crate::sso::link::complete_link(state(ctx)?, scope.access(), client(ctx), &code)
            .await
            .map(|m| Manager(m, scope))
            .gql()
    }
}

/// An identity at an identity provider, linked to a manager.
pub struct SsoIdentity(pub entity::manager_sso_identity::Model);

/// An identity at one of the account's identity providers (OpenID Connect `iss` and `sub`),
/// linked to a manager: with `identityClaim: SUB` it is what signs the manager in.
#[Object]
impl SsoIdentity {
    /// The provider's issuer URL.
    async fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The person's stable identifier at that provider (`sub`).
    async fn subject(&self) -> &str {
        &self.0.subject
    }

    /// When it was linked.
    async fn linked_at(&self) -> DateTime {
        DateTime(self.0.linked_at)
    }
}
