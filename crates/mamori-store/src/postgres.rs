// Placeholder replaced by the PostgreSQL implementation.
#[derive(Debug)]
pub(crate) struct PgStore;
impl PgStore {
    pub(crate) async fn open(_: &crate::DbSettings, _: crate::OpenOptions) -> crate::Result<std::sync::Arc<dyn crate::Store>> {
        Err(crate::StoreError::Invalid("postgres: not yet".into()))
    }
}
