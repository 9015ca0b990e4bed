//! The organization: portals and sub-portals, teams and sub-teams, reps, the assignments of
//! team managers, and the feature sets (bit masks, see `src/service/features.rs`).
//! `logins` makes a login unique across managers and reps together.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20261124_000001_accounts::Accounts, m20261124_000002_managers::Managers};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every right of SPEC 4.1 on: the default `managerFeatures` of a team.
const ALL_RIGHTS: i64 = 0xFFFF;

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut fk = ForeignKey::create();
    fk.name(name).from(from.0, from.1).to(to.0, to.1);
    if cascade {
        fk.on_delete(ForeignKeyAction::Cascade);
    }
    fk.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Logins::Table)
                    .col(string_len(Logins::LoginKey, 128).primary_key())
                    .col(string_len(Logins::OwnerKind, 16))
                    .col(uuid(Logins::OwnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO logins (login_key, owner_kind, owner_id) \
                 SELECT login_key, 'MANAGER', id FROM managers",
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Managers::Table)
                    .add_column(big_integer(ManagerSets::Rights).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Managers::Table)
                    .add_column(big_integer(ManagerSets::RepControls).default(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Portals::Table)
                    .col(uuid(Portals::Id).primary_key())
                    .col(uuid(Portals::AccountId))
                    .col(uuid_null(Portals::ParentId))
                    .col(string_len(Portals::Name, 200))
                    .col(timestamp_with_time_zone(Portals::CreatedAt))
                    .col(timestamp_with_time_zone(Portals::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_portals_account",
                        (Portals::Table, Portals::AccountId),
                        (Accounts::Table, Accounts::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_portals_parent",
                        (Portals::Table, Portals::ParentId),
                        (Portals::Table, Portals::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .col(uuid(Teams::Id).primary_key())
                    .col(uuid(Teams::AccountId))
                    .col(uuid_null(Teams::ParentId))
                    .col(string_len(Teams::Name, 200))
                    .col(uuid_null(Teams::PortalId))
                    .col(integer_null(Teams::AvailableLogins))
                    .col(big_integer(Teams::ManagerFeatures).default(ALL_RIGHTS))
                    .col(big_integer(Teams::RepDefaults).default(0))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_teams_account",
                        (Teams::Table, Teams::AccountId),
                        (Accounts::Table, Accounts::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_teams_parent",
                        (Teams::Table, Teams::ParentId),
                        (Teams::Table, Teams::Id),
                        false,
                    ))
                    .foreign_key(&mut fk(
                        "fk_teams_portal",
                        (Teams::Table, Teams::PortalId),
                        (Portals::Table, Portals::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TeamSubportals::Table)
                    .col(uuid(TeamSubportals::TeamId))
                    .col(uuid(TeamSubportals::PortalId))
                    .primary_key(
                        Index::create()
                            .col(TeamSubportals::TeamId)
                            .col(TeamSubportals::PortalId),
                    )
                    .foreign_key(&mut fk(
                        "fk_team_subportals_team",
                        (TeamSubportals::Table, TeamSubportals::TeamId),
                        (Teams::Table, Teams::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_team_subportals_portal",
                        (TeamSubportals::Table, TeamSubportals::PortalId),
                        (Portals::Table, Portals::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Reps::Table)
                    .col(uuid(Reps::Id).primary_key())
                    .col(uuid(Reps::AccountId))
                    .col(uuid(Reps::TeamId))
                    .col(string_len(Reps::Login, 128))
                    .col(string_len_uniq(Reps::LoginKey, 128))
                    .col(string_len(Reps::Name, 200))
                    .col(string_len(Reps::Email, 320))
                    .col(string_len(Reps::ScreenName, 200))
                    .col(text(Reps::PasswordHash))
                    .col(big_integer(Reps::FeatureOverrideMask).default(0))
                    .col(big_integer(Reps::FeatureOverrideValues).default(0))
                    .col(timestamp_with_time_zone(Reps::CreatedAt))
                    .col(timestamp_with_time_zone(Reps::UpdatedAt))
                    .foreign_key(&mut fk(
                        "fk_reps_account",
                        (Reps::Table, Reps::AccountId),
                        (Accounts::Table, Accounts::Id),
                        true,
                    ))
                    .foreign_key(&mut fk(
                        "fk_reps_team",
                        (Reps::Table, Reps::TeamId),
                        (Teams::Table, Teams::Id),
                        false,
                    ))
                    .to_owned(),
            )
            .await?;
        for (table, a, b, a_to, b_to, name) in [
            (
                RepPortals::Table.into_iden(),
                RepPortals::RepId.into_iden(),
                RepPortals::PortalId.into_iden(),
                Reps::Table.into_iden(),
                Portals::Table.into_iden(),
                "rep_portals",
            ),
            (
                ManagerTeams::Table.into_iden(),
                ManagerTeams::ManagerId.into_iden(),
                ManagerTeams::TeamId.into_iden(),
                Managers::Table.into_iden(),
                Teams::Table.into_iden(),
                "manager_teams",
            ),
            (
                ManagerPortals::Table.into_iden(),
                ManagerPortals::ManagerId.into_iden(),
                ManagerPortals::PortalId.into_iden(),
                Managers::Table.into_iden(),
                Portals::Table.into_iden(),
                "manager_portals",
            ),
        ] {
            manager
                .create_table(
                    Table::create()
                        .table(table.clone())
                        .col(uuid(a.clone()))
                        .col(uuid(b.clone()))
                        .primary_key(Index::create().col(a.clone()).col(b.clone()))
                        .foreign_key(&mut fk(
                            &format!("fk_{name}_a"),
                            (table.clone(), a.clone()),
                            (a_to, Alias::new("id")),
                            true,
                        ))
                        .foreign_key(&mut fk(
                            &format!("fk_{name}_b"),
                            (table.clone(), b.clone()),
                            (b_to, Alias::new("id")),
                            true,
                        ))
                        .to_owned(),
                )
                .await?;
            // The reverse lookup ("who is assigned to this team") needs its own index.
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{name}_b"))
                        .table(table)
                        .col(b)
                        .to_owned(),
                )
                .await?;
        }
        for (name, table, cols) in [
            (
                "idx_portals_account",
                Portals::Table.into_iden(),
                vec![Portals::AccountId.into_iden(), Portals::Id.into_iden()],
            ),
            (
                "idx_portals_parent",
                Portals::Table.into_iden(),
                vec![Portals::ParentId.into_iden()],
            ),
            (
                "idx_teams_account",
                Teams::Table.into_iden(),
                vec![Teams::AccountId.into_iden(), Teams::Id.into_iden()],
            ),
            (
                "idx_teams_parent",
                Teams::Table.into_iden(),
                vec![Teams::ParentId.into_iden()],
            ),
            (
                "idx_reps_team",
                Reps::Table.into_iden(),
                vec![Reps::TeamId.into_iden(), Reps::Id.into_iden()],
            ),
            (
                "idx_reps_account",
                Reps::Table.into_iden(),
                vec![Reps::AccountId.into_iden(), Reps::Id.into_iden()],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ManagerPortals::Table.into_iden(),
            ManagerTeams::Table.into_iden(),
            RepPortals::Table.into_iden(),
            Reps::Table.into_iden(),
            TeamSubportals::Table.into_iden(),
            Teams::Table.into_iden(),
            Portals::Table.into_iden(),
            Logins::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [ManagerSets::RepControls, ManagerSets::Rights] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Managers::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Logins {
    Table,
    LoginKey,
    OwnerKind,
    OwnerId,
}

#[derive(DeriveIden)]
enum ManagerSets {
    Rights,
    RepControls,
}

#[derive(DeriveIden)]
enum Portals {
    Table,
    Id,
    AccountId,
    ParentId,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    AccountId,
    ParentId,
    Name,
    PortalId,
    AvailableLogins,
    ManagerFeatures,
    RepDefaults,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeamSubportals {
    Table,
    TeamId,
    PortalId,
}

#[derive(DeriveIden)]
enum Reps {
    Table,
    Id,
    AccountId,
    TeamId,
    Login,
    LoginKey,
    Name,
    Email,
    ScreenName,
    PasswordHash,
    FeatureOverrideMask,
    FeatureOverrideValues,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RepPortals {
    Table,
    RepId,
    PortalId,
}

#[derive(DeriveIden)]
enum ManagerTeams {
    Table,
    ManagerId,
    TeamId,
}

#[derive(DeriveIden)]
enum ManagerPortals {
    Table,
    ManagerId,
    PortalId,
}
