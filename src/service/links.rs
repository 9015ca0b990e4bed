//! Link tables (a team manager's teams and portals, a team's sub-portals, a rep's portals):
//! reading one owner's set and replacing it, the same way for every table.

use std::collections::BTreeSet;

use entity::{manager_portal, manager_team, rep_portal, team_subportal};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::error::AppError;

/// A table of `(owner, linked)` id pairs.
pub trait LinkTable: EntityTrait {
    const OWNER: Self::Column;
    const LINKED: Self::Column;
    fn link(owner: Uuid, linked: Uuid) -> Self::ActiveModel;
}

/// The ids linked to `owner`.
pub async fn linked<L: LinkTable>(
    conn: &impl ConnectionTrait,
    owner: Uuid,
) -> Result<BTreeSet<Uuid>, AppError> {
    Ok(L::find()
        .select_only()
        .column(L::LINKED)
        .filter(L::OWNER.eq(owner))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Makes `wanted` the whole set linked to `owner`.
pub async fn replace<L: LinkTable>(
    conn: &impl ConnectionTrait,
    owner: Uuid,
    wanted: &BTreeSet<Uuid>,
) -> Result<(), AppError>
where
    L::ActiveModel: Send,
{
    L::delete_many()
        .filter(L::OWNER.eq(owner))
        .exec(conn)
        .await?;
    if !wanted.is_empty() {
        L::insert_many(wanted.iter().map(|linked| L::link(owner, *linked)))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

impl LinkTable for manager_team::Entity {
    const OWNER: manager_team::Column = manager_team::Column::ManagerId;
    const LINKED: manager_team::Column = manager_team::Column::TeamId;
    fn link(owner: Uuid, linked: Uuid) -> manager_team::ActiveModel {
        manager_team::ActiveModel {
            manager_id: Set(owner),
            team_id: Set(linked),
        }
    }
}

impl LinkTable for manager_portal::Entity {
    const OWNER: manager_portal::Column = manager_portal::Column::ManagerId;
    const LINKED: manager_portal::Column = manager_portal::Column::PortalId;
    fn link(owner: Uuid, linked: Uuid) -> manager_portal::ActiveModel {
        manager_portal::ActiveModel {
            manager_id: Set(owner),
            portal_id: Set(linked),
        }
    }
}

impl LinkTable for team_subportal::Entity {
    const OWNER: team_subportal::Column = team_subportal::Column::TeamId;
    const LINKED: team_subportal::Column = team_subportal::Column::PortalId;
    fn link(owner: Uuid, linked: Uuid) -> team_subportal::ActiveModel {
        team_subportal::ActiveModel {
            team_id: Set(owner),
            portal_id: Set(linked),
        }
    }
}

impl LinkTable for rep_portal::Entity {
    const OWNER: rep_portal::Column = rep_portal::Column::RepId;
    const LINKED: rep_portal::Column = rep_portal::Column::PortalId;
    fn link(owner: Uuid, linked: Uuid) -> rep_portal::ActiveModel {
        rep_portal::ActiveModel {
            rep_id: Set(owner),
            portal_id: Set(linked),
        }
    }
}
