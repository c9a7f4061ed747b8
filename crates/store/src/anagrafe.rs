//! The anagrafe for certificates (issue 5, part 1; migration 0024): the
//! stradario, and the population register saved from an import
//! (`docs/anagrafe-import.md`).

/// Calls `$cb!` with the anagrafe reads of [`crate::Store`].
#[macro_export]
macro_rules! anagrafe_reads {
    ($cb:ident) => {
        $cb! {
            /// The comune's stradario, by name.
            fn streets(&self, tenant: TenantId) -> Vec<Street>;
            /// The keys of the stored register, to merge an import into it.
            fn population_keys(&self, tenant: TenantId) -> PopulationKeys;
            /// The members of a family, by id.
            fn family_members(&self, tenant: TenantId, family: i64) -> Vec<PopPerson>;
            /// The address of a family.
            fn family_address(&self, tenant: TenantId, family: i64) -> Option<PopAddress>;
            /// The earlier residences of a resident, oldest first.
            fn residences_of(&self, tenant: TenantId, person: i64) -> Vec<PopResidence>;
        }
    };
}

/// Calls `$cb!` with the anagrafe writes of [`crate::StoreTx`].
#[macro_export]
macro_rules! anagrafe_writes {
    ($cb:ident) => {
        $cb! {
            /// Inserts the streets, or renames those whose code exists. A
            /// name already used by another code is a [`StoreError::Conflict`].
            fn save_streets(&mut self, tenant: TenantId, streets: &[Street]) -> ();
            /// Saves a batch of the register, inserting or replacing each row
            /// by id (addresses, then families, then persons), and replaces
            /// the earlier residences of each person of the batch with those
            /// of the batch.
            fn save_population(&mut self, tenant: TenantId, batch: &PopulationBatch) -> ();
        }
    };
}
