//! Roles and permissions of a comune (issue 3, part 6).
//!
//! A signed-in principal holds zero or more [`Grant`]s: a [`Role`], scoped to
//! one office for the office-bound roles. Every citizen is implicitly a
//! [`Role::Cittadino`] of the comune they signed in to. What each role may do
//! is the single table [`Role::permissions`]; the services layer checks
//! [`Principal::can`] before every action (never only the templates).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role within one comune (or, for [`Role::AdminPiattaforma`], over the
/// whole installation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// A citizen: their own profile, applications, certificates and taxes.
    Cittadino,
    /// Office clerk (operatore), scoped to one office.
    Operatore,
    /// Responsabile del procedimento, scoped to one office.
    Responsabile,
    /// Dirigente of a sector: adopts determine, sees every office.
    Dirigente,
    /// Segretario comunale and RPCT (transparency officer).
    Segretario,
    /// Ufficiale d'anagrafe (DPR 223/1989 art. 33; L. 1228/1954 art. 3):
    /// issues anagrafe certificates for anyone entitled at the desk,
    /// records the bollo paid in paper, revokes (DECISIONS 19).
    UfficialeAnagrafe,
    /// Funzionario responsabile dei tributi (L. 160/2019 c.778; L. 147/2013
    /// c.692): keeps the local-tax data, sees every taxpayer's position,
    /// issues notices and records payments.
    FunzionarioTributi,
    /// Administrator of one comune: catalogue, offices, roles.
    AdminComune,
    /// Administrator of the platform: every comune of the installation.
    AdminPiattaforma,
}

/// Every role, in display order.
pub const ROLES: [Role; 9] = [
    Role::Cittadino,
    Role::Operatore,
    Role::Responsabile,
    Role::Dirigente,
    Role::Segretario,
    Role::UfficialeAnagrafe,
    Role::FunzionarioTributi,
    Role::AdminComune,
    Role::AdminPiattaforma,
];

/// Something a principal may do. Services name the permission they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// See and edit one's own profile, sign-ins and personal data export
    /// (the personal area of citizens; staff roles work in the back office).
    OwnProfile,
    /// Open the back office at all.
    BackOffice,
    /// Work the documents and cases of one's offices.
    WorkOfficeCases,
    /// Adopt acts and decide cases (responsabile, dirigente).
    DecideCases,
    /// See every office's work (dirigente, segretario).
    SeeAllOffices,
    /// Transparency and anti-corruption oversight (RPCT).
    Transparency,
    /// Edit the comune's ente data, offices, services and FAQ.
    ManageCatalogue,
    /// Grant and revoke roles within the comune.
    ManageRoles,
    /// Read the comune's ledger and audit trail.
    ReadAudit,
    /// Manage every comune of the installation.
    ManagePlatform,
    /// Register documents in the protocollo and change their classification
    /// and assignment.
    RegisterProtocol,
    /// Read the protocol register.
    ReadProtocol,
    /// Annul a registration (DPR 445/2000 art. 54: an authorised role).
    AnnulProtocol,
    /// Open, authorise and close the emergency register (DPR 445/2000 art.
    /// 63: the responsabile della gestione documentale — usually the
    /// segretario — or a dirigente acting for them).
    ManageEmergencyRegister,
    /// Edit the comune's titolario (add, rename, close classes: each edit
    /// makes a new version, TI-3). The administrator of the comune and the
    /// responsabile della gestione documentale (usually the segretario).
    ManageTitolario,
    /// Issue anagrafe certificates for anyone entitled (the desk), record
    /// a paper marca da bollo, revoke a certificate (DECISIONS 19; a
    /// resident asks online for themself and their family without it).
    IssueCertificates,
    /// Load and correct the population register (`palazzo anagrafe
    /// import`, docs/anagrafe-import.md): the comune's administrator.
    ManageAnagrafe,
    /// Keep the comune's local-tax data (cadastral units, titolarità, the
    /// rates of each year with their delibera), see any taxpayer's
    /// position, issue notices and record payments (the funzionario
    /// responsabile, L. 160/2019 c.778).
    ManageTaxes,
}

impl Role {
    /// The stable code stored in the database and used in IdP group names.
    pub fn code(self) -> &'static str {
        match self {
            Role::Cittadino => "cittadino",
            Role::Operatore => "operatore",
            Role::Responsabile => "responsabile",
            Role::Dirigente => "dirigente",
            Role::Segretario => "segretario",
            Role::UfficialeAnagrafe => "ufficiale_anagrafe",
            Role::FunzionarioTributi => "funzionario_tributi",
            Role::AdminComune => "admin_comune",
            Role::AdminPiattaforma => "admin_piattaforma",
        }
    }

    /// The Italian label shown to users.
    pub fn label_it(self) -> &'static str {
        match self {
            Role::Cittadino => "Cittadino",
            Role::Operatore => "Operatore",
            Role::Responsabile => "Responsabile del procedimento",
            Role::Dirigente => "Dirigente",
            Role::Segretario => "Segretario comunale / RPCT",
            Role::UfficialeAnagrafe => "Ufficiale d'anagrafe",
            Role::FunzionarioTributi => "Funzionario responsabile dei tributi",
            Role::AdminComune => "Amministratore del Comune",
            Role::AdminPiattaforma => "Amministratore della piattaforma",
        }
    }

    /// Does this role only make sense for one office?
    pub fn is_office_scoped(self) -> bool {
        matches!(self, Role::Operatore | Role::Responsabile)
    }

    /// Is this a staff role (back office)?
    pub fn is_staff(self) -> bool {
        self != Role::Cittadino
    }

    /// The permissions of the role — the one authorization table.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Cittadino => &[OwnProfile],
            Role::Operatore => &[BackOffice, WorkOfficeCases, RegisterProtocol, ReadProtocol],
            Role::Responsabile => &[
                BackOffice,
                WorkOfficeCases,
                DecideCases,
                RegisterProtocol,
                ReadProtocol,
            ],
            Role::Dirigente => &[
                BackOffice,
                WorkOfficeCases,
                DecideCases,
                SeeAllOffices,
                RegisterProtocol,
                ReadProtocol,
                AnnulProtocol,
                ManageEmergencyRegister,
            ],
            // The segretario is usually the responsabile della gestione
            // documentale: reads the register and authorises annulments.
            Role::Segretario => &[
                BackOffice,
                SeeAllOffices,
                Transparency,
                ReadAudit,
                ReadProtocol,
                AnnulProtocol,
                ManageEmergencyRegister,
                ManageTitolario,
            ],
            Role::UfficialeAnagrafe => &[BackOffice, IssueCertificates],
            Role::FunzionarioTributi => &[BackOffice, ManageTaxes],
            Role::AdminComune => &[
                BackOffice,
                ManageCatalogue,
                ManageRoles,
                ReadAudit,
                ManageTitolario,
                ManageAnagrafe,
            ],
            Role::AdminPiattaforma => &[
                BackOffice,
                ManageCatalogue,
                ManageRoles,
                ReadAudit,
                ManagePlatform,
                ManageTitolario,
                ManageAnagrafe,
            ],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A role code that is not one of [`ROLES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl crate::Coded for UnknownRole {
    fn code(&self) -> &'static str {
        "role_unknown"
    }
    fn message_it(&self) -> String {
        format!("Il ruolo «{}» non esiste.", self.0)
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ROLES
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// One role held by a principal, with its office scope (the office id within
/// the comune) for office-scoped roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The office, for [`Role::is_office_scoped`] roles; `None` otherwise.
    pub office: Option<i64>,
}

/// Who is acting, as far as authorization is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principal {
    /// The roles held in the current comune (citizens hold `Cittadino`).
    pub grants: Vec<Grant>,
}

impl Principal {
    /// Anyone who has not signed in.
    pub fn anonymous() -> Self {
        Principal::default()
    }

    /// Does any held role carry `p`?
    pub fn can(&self, p: Permission) -> bool {
        self.grants
            .iter()
            .any(|g| g.role.permissions().contains(&p))
    }

    /// May the principal work cases of `office`? Office-scoped roles only for
    /// their office; roles that see all offices for every office.
    pub fn can_work_office(&self, office: i64) -> bool {
        self.can(Permission::SeeAllOffices)
            || self.grants.iter().any(|g| {
                g.office == Some(office)
                    && g.role.permissions().contains(&Permission::WorkOfficeCases)
            })
    }

    /// May the principal manage the hand-offs of `office` on behalf of the
    /// people it is assigned to (accept, refuse, forward or close a hand-off
    /// assigned by name to a colleague)? Those who decide the office's
    /// cases: its responsabile (office-scoped [`Permission::DecideCases`])
    /// and the roles that work every office (the dirigente). A clerk
    /// (operatore) works the office's cases but not a colleague's.
    pub fn can_manage_office(&self, office: i64) -> bool {
        (self.can(Permission::SeeAllOffices) && self.can(Permission::WorkOfficeCases))
            || self.grants.iter().any(|g| {
                g.office == Some(office)
                    && g.role.permissions().contains(&Permission::WorkOfficeCases)
                    && g.role.permissions().contains(&Permission::DecideCases)
            })
    }

    /// The offices the principal works in through office-scoped roles (each
    /// once, in order); empty for roles that see every office.
    pub fn work_offices(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self
            .grants
            .iter()
            .filter(|g| g.role.permissions().contains(&Permission::WorkOfficeCases))
            .filter_map(|g| g.office)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Holds role `r` (in any scope)?
    pub fn has(&self, r: Role) -> bool {
        self.grants.iter().any(|g| g.role == r)
    }

    /// Is this a staff member (any staff role)?
    pub fn is_staff(&self) -> bool {
        self.grants.iter().any(|g| g.role.is_staff())
    }

    /// Is anyone signed in?
    pub fn is_authenticated(&self) -> bool {
        !self.grants.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in ROLES {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn anonymous_can_nothing() {
        let p = Principal::anonymous();
        for perm in [
            Permission::OwnProfile,
            Permission::BackOffice,
            Permission::ManageRoles,
        ] {
            assert!(!p.can(perm));
        }
        assert!(!p.is_authenticated());
    }

    #[test]
    fn citizen_is_not_staff() {
        let p = Principal {
            grants: vec![Grant {
                role: Role::Cittadino,
                office: None,
            }],
        };
        assert!(p.can(Permission::OwnProfile));
        assert!(!p.can(Permission::BackOffice));
        assert!(!p.is_staff());
        assert!(!p.can_work_office(1));
    }

    #[test]
    fn managing_an_office_takes_a_deciding_role() {
        let g = |role: Role, office: Option<i64>| Principal {
            grants: vec![Grant { role, office }],
        };
        assert!(!g(Role::Operatore, Some(3)).can_manage_office(3));
        assert!(g(Role::Responsabile, Some(3)).can_manage_office(3));
        assert!(!g(Role::Responsabile, Some(3)).can_manage_office(4));
        assert!(g(Role::Dirigente, None).can_manage_office(4));
        assert!(!g(Role::Segretario, None).can_manage_office(4));
        assert_eq!(g(Role::Operatore, Some(3)).work_offices(), vec![3]);
        assert!(g(Role::Dirigente, None).work_offices().is_empty());
        assert!(g(Role::Segretario, None).work_offices().is_empty());
    }

    #[test]
    fn operatore_is_scoped_to_its_office() {
        let p = Principal {
            grants: vec![Grant {
                role: Role::Operatore,
                office: Some(3),
            }],
        };
        assert!(p.can_work_office(3));
        assert!(!p.can_work_office(4));
        assert!(!p.can(Permission::ManageRoles));
        let d = Principal {
            grants: vec![Grant {
                role: Role::Dirigente,
                office: None,
            }],
        };
        assert!(d.can_work_office(4));
    }

    #[test]
    fn only_admins_manage_roles_and_only_platform_admins_the_platform() {
        for r in ROLES {
            let p = Principal {
                grants: vec![Grant {
                    role: r,
                    office: None,
                }],
            };
            assert_eq!(
                p.can(Permission::ManageRoles),
                matches!(r, Role::AdminComune | Role::AdminPiattaforma),
                "{r}"
            );
            assert_eq!(
                p.can(Permission::ManagePlatform),
                r == Role::AdminPiattaforma,
                "{r}"
            );
        }
    }
}
