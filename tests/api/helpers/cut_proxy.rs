//! A loopback TCP proxy between saidno and a server it depends on (PostgreSQL), which a test can
//! cut, as a network or a database going away would: every connection through it is closed at
//! once and new ones are closed as they come, until it lets them through again.

use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct CutProxy {
    pub address: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: SocketAddr,
    cut: AtomicBool,
    closing: AtomicBool,
    /// Both ends of every connection through, to close them when cut.
    open: Mutex<Vec<TcpStream>>,
}

impl CutProxy {
    /// A proxy to `upstream`, letting connections through.
    pub fn to(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            cut: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            open: Mutex::default(),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || accept(listener, accepting));
        Self { address, shared }
    }

    /// A proxy to the PostgreSQL server of `url`, and the same url through the proxy.
    pub fn to_postgres(url: &str) -> (Self, String) {
        let config: tokio_postgres::Config = url.parse().unwrap();
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(host) => host.clone(),
            other => panic!("the test database is reached over TCP, not {other:?}"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let upstream = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)).unwrap().next().unwrap();
        let proxy = Self::to(upstream);
        let through = url.replacen(&format!("{host}:{port}"), &proxy.address.to_string(), 1);
        assert_ne!(through, url, "the url names the host and the port: {url}");
        (proxy, through)
    }

    /// Closes every connection through, and every new one as it comes, until `restore`.
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        for stream in self.shared.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.cut();
        // Wakes the accepting thread, which then sees it is to end.
        let _ = TcpStream::connect(self.address);
    }
}

fn accept(listener: TcpListener, shared: Arc<Shared>) {
    for client in listener.incoming() {
        if shared.closing.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if shared.cut.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(shared.upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        {
            let mut open = shared.open.lock().unwrap();
            open.push(client.try_clone().unwrap());
            open.push(server.try_clone().unwrap());
        }
        pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
        pipe(server, client);
    }
}

/// Copies `from` to `to` until either closes, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        // An error is one end closing, the cut's or the server's.
        let _ = std::io::copy(&mut from, &mut to);
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
