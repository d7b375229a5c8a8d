//! A private PostgreSQL cluster under a directory of ours (`database.embedded_dir`), used when no
//! database URL is configured: initdb on first use, pg_ctl start/stop, TCP on 127.0.0.1 only.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct EmbeddedPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: when we are root, its tools run as this user.
    run_as: Option<String>,
    /// Whether this process started the cluster (and so stops it when dropped).
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Starts (creating it on first use) the cluster in `data` listening on 127.0.0.1:`port`,
    /// makes sure the `tsgate` database exists, and returns the cluster and its URL.
    pub fn start(data: &Path, port: u16) -> anyhow::Result<(Self, String)> {
        let bin = find_bin_dir().context(
            "PostgreSQL server programs (initdb, pg_ctl) were not found on PATH nor under \
             /usr/lib/postgresql/*/bin: install them (Debian: `apt-get install postgresql`) \
             or set database.url (TSGATE_DATABASE_URL) to an existing server",
        )?;
        let run_as = if is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        std::fs::create_dir_all(data)
            .with_context(|| format!("cannot create {}", data.display()))?;
        let data = data.canonicalize()?;
        let mut pg = Self {
            bin,
            data,
            port,
            run_as,
            started_here: false,
        };
        if let Some(user) = &pg.run_as {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(&pg.data)
                .status()?;
            if !status.success() {
                bail!("cannot give {} to user {user}", pg.data.display());
            }
        }
        if !pg.data.join("PG_VERSION").exists() {
            tracing::info!(dir = %pg.data.display(), "creating the private PostgreSQL cluster");
            pg.run(
                "initdb",
                &[
                    "-D",
                    &pg.data_str(),
                    "-U",
                    "tsgate",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ],
            )?;
        }
        if !pg.running() {
            let opts = format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
                pg.port
            );
            let log = pg.data.join("server.log");
            pg.run(
                "pg_ctl",
                &[
                    "-D",
                    &pg.data_str(),
                    "-l",
                    &log.to_string_lossy(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &opts,
                    "start",
                ],
            )?;
            pg.started_here = true;
        }
        let admin_url = format!("postgres://tsgate@127.0.0.1:{}/postgres", pg.port);
        ensure_database(&admin_url, "tsgate")?;
        let url = format!("postgres://tsgate@127.0.0.1:{}/tsgate", pg.port);
        Ok((pg, url))
    }

    /// Stops the cluster (fast shutdown: connections are closed, committed data is safe).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.started_here = false;
        self.run(
            "pg_ctl",
            &["-D", &self.data_str(), "-m", "fast", "-w", "stop"],
        )
    }

    fn running(&self) -> bool {
        self.command("pg_ctl", &["-D", &self.data_str(), "status"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn data_str(&self) -> String {
        self.data.to_string_lossy().into_owned()
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(exe).args(args);
                c
            }
            None => {
                let mut c = Command::new(exe);
                c.args(args);
                c
            }
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let out = self
            .command(program, args)
            .output()
            .with_context(|| format!("cannot run {program}"))?;
        if !out.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for EmbeddedPostgres {
    /// A cluster this process started is stopped with it; one found running is left running.
    fn drop(&mut self) {
        if self.started_here {
            if let Err(e) = self.stop() {
                tracing::warn!(error = %format!("{e:#}"), "private PostgreSQL cluster not stopped");
            }
        }
    }
}

fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let mut conn =
        PgConnection::establish(admin_url).context("cannot connect to the private cluster")?;
    let exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS found")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result::<Found>(&mut conn)?
            .found;
    if !exists {
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
    }
    Ok(())
}

fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = on_path.clone().find(|d| has_tools(d)) {
        return Some(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| has_tools(d))
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn unprivileged_user() -> anyhow::Result<String> {
    for user in ["postgres", "nobody"] {
        let ok = Command::new("id")
            .arg("-u")
            .arg(user)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(user.to_owned());
        }
    }
    bail!("running as root and no `postgres` user exists to run the private cluster; run tsgate as a normal user or set database.url")
}
