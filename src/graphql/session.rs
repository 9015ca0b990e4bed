//! Sign-in mutations: `login`, `logout`, `changePassword`, `requestPasswordReset`,
//! `resetPassword`, `validateEmail`.

use async_graphql::{Context, Enum, Object};
use entity::session::Restriction as StoredRestriction;

use super::{Manager, Scope, client, mutation_scope, scalars::DateTime, signed_out, state};
use crate::{error::GqlResultExt, service::session as service};

/// What a session may do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Restriction {
    /// Everything the manager's role and rights allow.
    None,
    /// Only `me`, `changePassword` and `logout`, until the password is changed.
    PasswordChange,
    /// Only `me`, `validateEmail` and `logout`, until the mailed code is entered.
    EmailValidation,
}

impl From<StoredRestriction> for Restriction {
    fn from(value: StoredRestriction) -> Self {
        match value {
            StoredRestriction::Unrestricted => Restriction::None,
            StoredRestriction::PasswordChange => Restriction::PasswordChange,
            StoredRestriction::EmailValidation => Restriction::EmailValidation,
        }
    }
}

/// The GraphQL object `LoginPayload` (described on its `impl`).
pub struct LoginPayload(service::SignedIn, Scope);

impl LoginPayload {
    pub(super) fn new(
        ctx: &Context<'_>,
        signed_in: service::SignedIn,
    ) -> async_graphql::Result<Self> {
        let scope = Scope::new(state(ctx)?.db.clone(), signed_in.principal());
        Ok(LoginPayload(signed_in, scope))
    }
}

/// A new session. Its `manager` is read as the new session's manager, with that session's
/// restriction, whoever sent the request.
#[Object]
impl LoginPayload {
    /// Send as `Authorization: Bearer <token>`. Shown once: it is not stored.
    async fn token(&self) -> &str {
        &self.0.token
    }

    /// When the token stops working (sessions also end on `logout` and password changes).
    async fn expires_at(&self) -> DateTime {
        self.0.expires_at.into()
    }

    /// `NONE`, or what must be done before anything else.
    async fn restriction(&self) -> Restriction {
        self.0.restriction.into()
    }

    /// The signed-in manager, as the new session sees it.
    async fn manager(&self) -> Manager {
        Manager(self.0.manager.clone(), self.1.clone())
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Signs in. A wrong password and an unknown login answer alike (`UNAUTHENTICATED`);
    /// repeated failures answer `RATE_LIMITED` for a short while.
    async fn login(
        &self,
        ctx: &Context<'_>,
        login: String,
        password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let signed_in = service::login(state(ctx)?, &login, password, client(ctx))
            .await
            .gql()?;
        LoginPayload::new(ctx, signed_in)
    }

    /// Ends the current session: its token fails from the next request on.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let scope = mutation_scope(ctx)?;
        let ended = service::logout(state(ctx)?, scope.access(), client(ctx))
            .await
            .gql()?;
        signed_out(ctx)?;
        Ok(ended)
    }

    /// Changes the signed-in manager's password. Ends all its sessions and returns a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<LoginPayload> {
        let scope = mutation_scope(ctx)?;
        let signed_in = service::change_password(
            state(ctx)?,
            scope.access(),
            client(ctx),
            current_password,
            new_password,
        )
        .await
        .gql()?;
        // Every session of the manager ended, the one this request came with included.
        signed_out(ctx)?;
        LoginPayload::new(ctx, signed_in)
    }

    /// Mails a password-reset token if the login exists and may reset its password. Always
    /// answers `true`, so it tells nothing about the login.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        login: String,
    ) -> async_graphql::Result<bool> {
        service::request_password_reset(state(ctx)?, &login, client(ctx))
            .await
            .gql()
    }

    /// Sets a new password with a mailed reset token (single use, 30 minutes). Ends every
    /// session of the manager.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let scope = mutation_scope(ctx)?;
        let manager = service::reset_password(state(ctx)?, &token, new_password, client(ctx))
            .await
            .gql()?;
        if scope
            .access()
            .signed_in()
            .is_ok_and(|actor| actor.manager_id == manager)
        {
            signed_out(ctx)?;
        }
        Ok(true)
    }

    /// Validates the e-mail address with the mailed code (single use) and returns a new,
    /// unrestricted session.
    async fn validate_email(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<LoginPayload> {
        let scope = mutation_scope(ctx)?;
        let signed_in = service::validate_email(state(ctx)?, scope.access(), client(ctx), &code)
            .await
            .gql()?;
        // The restricted session this request came with was replaced.
        signed_out(ctx)?;
        LoginPayload::new(ctx, signed_in)
    }
}
