//! `samverkan serve` as a separate process, for the tests that run the binary as an operator would
//! (`tests/cli.rs`, `tests/billing_concurrency.rs`): on a free port of 127.0.0.1, in its own data
//! folder, killed by its PID when dropped (also when the test fails).
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One `samverkan serve` process.
pub struct Server {
    child: Child,
    pub base: String,
    port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `samverkan serve` on a free port of 127.0.0.1 in `data_dir` (its working folder and
    /// audit data folder; stdout and stderr go to `{name}.log` there), with `envs` set on top of the
    /// common ones; does not wait for it.
    pub fn start(db_url: &str, data_dir: &Path, name: &str, envs: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = data_dir.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_samverkan"));
        command
            .arg("serve")
            .current_dir(data_dir)
            .env("DATABASE_URL", db_url)
            .env("SAMVERKAN_ADDR", format!("127.0.0.1:{port}"))
            .env("SAMVERKAN__AUDIT__DATA_DIR", data_dir)
            .env("SAMVERKAN__AUTH__TOKEN_REQUESTS_PER_MINUTE", "100000")
            .env("SAMVERKAN__DATABASE__POOL_SIZE", "8")
            .env("SAMVERKAN__SERVER__WORKERS", "2")
            .env("RUST_LOG", "warn")
            .env_remove("SAMVERKAN_CONFIG_DIR")
            .env_remove("SAMVERKAN_TEMPLATES_DIR")
            .env_remove("SAMVERKAN_ENV");
        for (k, v) in envs {
            command.env(k, v);
        }
        let child = command
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start samverkan serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            log,
        }
    }

    /// What the process has written to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `/health/ready` answers 200 (migrations applied, database reachable).
    pub fn wait_ready(&mut self) {
        for _ in 0..300 {
            if answers_ready(self.port) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("samverkan stopped ({status}): {}", self.log());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("samverkan did not become ready: {}", self.log());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port()
}

/// Whether a server on `port` of 127.0.0.1 answers `GET /health/ready` with 200 now.
pub fn answers_ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}
