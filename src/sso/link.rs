//! Linking a manager's identity at the account's provider by the manager itself
//! (`startSsoLink`, `completeSsoLink`): how `identityClaim: SUB` works with providers that do
//! not vouch for e-mail addresses. The start URL carries a one-time ticket; the provider's
//! answer comes back as a link code that only the session of the manager that started can
//! confirm.

use chrono::{DateTime, Utc};
use entity::{
    manager::{self, ManagerKind},
    manager_sso_identity,
    one_time_token::{self, Purpose as OneTimePurpose},
    sso_completion_code,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use super::flow::{LINK_TICKET_PREFIX, enabled_settings, link, start_url};
use crate::{
    auth::{ClientInfo, throttle},
    error::AppError,
    service::{
        access::Access,
        audit::{self, Action, TargetType},
        session::{
            hash_secret, new_secret,
            one_time::{consume_one_time_token, insert_one_time_token},
        },
        sso::return_to_allowed,
    },
    state::AppState,
};

/// `startSsoLink`: a company or team manager, signed in with its own session, asks to link the
/// identity it has at the account's provider (needed once for `identityClaim: SUB` where the
/// provider does not vouch for e-mail addresses). Answers the start URL with a one-time link
/// ticket (30 minutes). The link only takes effect when the same manager's session confirms
/// the code the provider's answer brings back ([`complete_link`]): a link URL handed to someone
/// else's browser links nothing to that person.
pub async fn start_link(
    state: &AppState,
    caller: &Access,
    return_to: Option<&str>,
) -> Result<String, AppError> {
    let actor = caller.person()?;
    if actor.kind == ManagerKind::Api {
        return Err(AppError::Forbidden);
    }
    let settings = enabled_settings(state, actor.account_id)
        .await?
        .ok_or_else(|| AppError::bad_input("single sign-on is not enabled for this account"))?;
    let allow_list = crate::service::sso::stored_allow_list(&settings.return_to_allow_list);
    if let Some(wanted) = return_to
        && return_to_allowed(&allow_list, wanted).is_none()
    {
        return Err(AppError::bad_input("returnTo is not in returnToAllowList"));
    }
    let ticket = new_secret(LINK_TICKET_PREFIX);
    insert_one_time_token(
        &state.db,
        actor.manager_id,
        OneTimePurpose::SsoLink,
        hash_secret(&ticket),
        state.clock.now(),
    )
    .await?;
    let mut url =
        url::Url::parse(&start_url(state, actor.account_id)).map_err(AppError::internal)?;
    {
        let mut query = url.query_pairs_mut();
        if let Some(return_to) = return_to {
            query.append_pair("return_to", return_to);
        }
        query.append_pair("link", &ticket);
    }
    Ok(url.to_string())
}

/// Spends a link ticket of a company or team manager of `account_id`: the manager's id.
pub(super) async fn spend_ticket(
    state: &AppState,
    account_id: Uuid,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, AppError> {
    let Some(row) = one_time_token::Entity::find()
        .filter(one_time_token::Column::TokenHash.eq(hash_secret(ticket.trim())))
        .filter(one_time_token::Column::Purpose.eq(OneTimePurpose::SsoLink))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    if !consume_one_time_token(&state.db, row.id, now).await? {
        return Ok(None);
    }
    Ok(manager::Entity::find_by_id(row.manager_id)
        .filter(manager::Column::AccountId.eq(account_id))
        .filter(manager::Column::Kind.is_in([ManagerKind::Company, ManagerKind::Team]))
        .one(&state.db)
        .await?
        .map(|m| m.id))
}

/// `completeSsoLink(code)`: the manager that started the link confirms it with its own
/// session; the identity is then linked to it (replacing what it or the identity was linked
/// to before) and `linkSsoIdentity` audited. A code of another manager is spent and refused.
pub async fn complete_link(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    code: &str,
) -> Result<manager::Model, AppError> {
    let actor = caller.person()?;
    if actor.kind == ManagerKind::Api {
        return Err(AppError::Forbidden);
    }
    let now = state.clock.now();
    let keys = throttle::Key::address_only(client.address.as_deref());
    throttle::attempt(&state.db, now, &keys).await?;
    let code_hash = hash_secret(code.trim());
    let consumed = sso_completion_code::Entity::update_many()
        .col_expr(sso_completion_code::Column::UsedAt, Expr::value(now))
        .filter(sso_completion_code::Column::CodeHash.eq(code_hash.clone()))
        .filter(sso_completion_code::Column::UsedAt.is_null())
        .filter(sso_completion_code::Column::ExpiresAt.gt(now))
        .filter(sso_completion_code::Column::Subject.is_not_null())
        .exec(&state.db)
        .await?;
    let row = sso_completion_code::Entity::find_by_id(code_hash)
        .one(&state.db)
        .await?
        .filter(|row| consumed.rows_affected == 1 && row.manager_id == actor.manager_id);
    let settings = enabled_settings(state, actor.account_id).await?;
    let (Some(row), Some(settings)) = (row, settings) else {
        return Err(AppError::BadSsoCode);
    };
    let (Some(subject), true) = (row.subject.as_deref(), row.issuer == settings.issuer) else {
        return Err(AppError::BadSsoCode);
    };
    let manager = manager::Entity::find_by_id(actor.manager_id)
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    link(state.db.clone(), &settings, &manager, subject, now).await?;
    throttle::succeeded(&state.db, &keys).await?;
    audit::record(
        &state.db,
        now,
        audit::entry(
            actor,
            client,
            TargetType::Manager,
            Action::LinkSsoIdentity,
            manager.id,
            None,
            Some(json!({ "issuer": settings.issuer })),
        ),
    )
    .await?;
    Ok(manager)
}

/// Who may see and remove a manager's linked identities: company managers those of their
/// account's managers, any other person its own (app tokens: `FORBIDDEN`). `None`: any
/// manager of the caller's account; `Some(id)`: only that one.
fn identity_readers(caller: &Access) -> Result<(&crate::auth::Actor, Option<Uuid>), AppError> {
    let actor = caller.person()?;
    Ok(match actor.kind {
        ManagerKind::Company => (actor, None),
        ManagerKind::Team | ManagerKind::Api => (actor, Some(actor.manager_id)),
    })
}

/// `Manager.ssoIdentities` for several managers at once (one statement): the identities
/// linked to each, oldest first. Managers the caller may not see them for get none.
pub async fn identities_of(
    caller: &Access,
    manager_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<manager_sso_identity::Model>>, AppError> {
    use sea_orm::QueryOrder;
    let (actor, only) = identity_readers(caller)?;
    let ids = manager_ids
        .iter()
        .copied()
        .filter(|id| only.is_none_or(|own| *id == own));
    let mut by_manager: std::collections::HashMap<Uuid, Vec<_>> = Default::default();
    for row in manager_sso_identity::Entity::find()
        .filter(manager_sso_identity::Column::AccountId.eq(actor.account_id))
        .filter(manager_sso_identity::Column::ManagerId.is_in(ids))
        .order_by_asc(manager_sso_identity::Column::LinkedAt)
        .all(caller.db())
        .await?
    {
        by_manager.entry(row.manager_id).or_default().push(row);
    }
    Ok(by_manager)
}

/// `unlinkSsoIdentities(managerId)`: removes every identity linked to the manager (at any
/// issuer), so that with `identityClaim: SUB` it no longer signs in through the provider
/// until it links again. A company manager for its account's managers, any other person for
/// itself. Audited with the issuers and subjects removed; a manager with none linked is
/// answered unchanged, without an event.
pub async fn unlink(
    state: &AppState,
    caller: &Access,
    client: &ClientInfo,
    manager_id: Uuid,
) -> Result<manager::Model, AppError> {
    let (actor, only) = identity_readers(caller)?;
    if only.is_some_and(|own| own != manager_id) {
        return Err(AppError::Forbidden);
    }
    let now = state.clock.now();
    let manager = manager::Entity::find_by_id(manager_id)
        .filter(manager::Column::AccountId.eq(actor.account_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("manager"))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let linked = manager_sso_identity::Entity::find()
        .filter(manager_sso_identity::Column::ManagerId.eq(manager.id))
        .all(&txn)
        .await?;
    if linked.is_empty() {
        txn.commit().await?;
        return Ok(manager);
    }
    manager_sso_identity::Entity::delete_many()
        .filter(manager_sso_identity::Column::ManagerId.eq(manager.id))
        .exec(&txn)
        .await?;
    let removed: Vec<serde_json::Value> = linked
        .iter()
        .map(|l| json!({ "issuer": l.issuer, "subject": l.subject }))
        .collect();
    audit::record(
        &txn,
        now,
        audit::entry(
            actor,
            client,
            TargetType::Manager,
            Action::UnlinkSsoIdentity,
            manager.id,
            Some(json!({ "identities": removed })),
            None,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(manager)
}
