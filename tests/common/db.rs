//! A database per test, cloned from a template that holds the migrations and fixtures
//! (`CREATE DATABASE t_x TEMPLATE tsgate_tpl_<hash>`); the template is rebuilt when the
//! migrations or fixtures change. The server is `TSGATE_TEST_DATABASE_URL` (default: local
//! PostgreSQL on 127.0.0.1:5432 as user postgres).

use diesel::{Connection, PgConnection, RunQueryDsl};

pub struct TestDb {
    pub url: String,
    pub name: String,
    admin_url: String,
}

fn admin_url() -> String {
    std::env::var("TSGATE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{url}/{name}"),
    }
}

/// FNV-1a over the migrations and fixtures, so the template follows their content.
fn content_hash() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = walk(&root.join("migrations"));
    files.push(root.join("fixtures/demo.sql"));
    files.push(root.join("fixtures/tscns.sql"));
    files.push(root.join("fixtures/demo_operatori.toml"));
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        for b in f
            .to_string_lossy()
            .bytes()
            .chain(std::fs::read(&f).unwrap_or_default())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn ensure_template(admin: &str) -> String {
    let name = format!("tsgate_tpl_{}", content_hash());
    let mut conn = PgConnection::establish(admin)
        .expect("test PostgreSQL not reachable (TSGATE_TEST_DATABASE_URL)");
    diesel::sql_query("SELECT pg_advisory_lock(72430017)")
        .execute(&mut conn)
        .expect("lock");
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        e: bool,
    }
    let exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS e")
            .bind::<diesel::sql_types::Text, _>(&name)
            .get_result::<Exists>(&mut conn)
            .expect("query")
            .e;
    if !exists {
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .expect("drop");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .expect("create template");
        {
            let mut t = PgConnection::establish(&with_database(admin, &building))
                .expect("template connection");
            tsgate::db::migrate(&mut t).expect("migrations");
            tsgate::demo::load_fixtures(&mut t).expect("fixtures");
            for o in tsgate::portal::operatori::demo().expect("demo operators") {
                tsgate::portal::operatori::inserisci(&mut t, &o).expect("operator");
            }
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .expect("rename");
    }
    diesel::sql_query("SELECT pg_advisory_unlock(72430017)")
        .execute(&mut conn)
        .expect("unlock");
    name
}

impl TestDb {
    pub async fn new() -> Self {
        tokio::task::spawn_blocking(Self::create)
            .await
            .expect("test database")
    }

    pub fn create() -> Self {
        let admin = admin_url();
        let template = ensure_template(&admin);
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::establish(&admin).expect("admin connection");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .expect("clone template");
        Self {
            url: with_database(&admin, &name),
            name,
            admin_url: admin,
        }
    }

    pub fn connection(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("test database connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("TSGATE_TEST_KEEP_DB").is_some() {
            return;
        }
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}
