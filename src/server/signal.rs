//! The signals that stop the server, the same in both transports.

/// Installs the handlers for SIGINT, SIGTERM and SIGHUP now (from here on they no
/// longer kill the process) and returns a future that ends, with the signal's
/// name, when one arrives. Keep the one future for the whole run: a signal that
/// arrives while no future listens is lost. A signal whose handler cannot be
/// installed is simply not waited for.
pub(crate) fn stop_requested() -> impl Future<Output = &'static str> + Send {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind: SignalKind, name: &'static str| {
        let handler = signal(kind).map_err(|e| tracing::warn!(signal = name, error = %e, "cannot handle the signal"));
        async move {
            match handler {
                Ok(mut s) => {
                    s.recv().await;
                    name
                }
                Err(()) => std::future::pending().await,
            }
        }
    };
    let (int, term, hup) = (
        install(SignalKind::interrupt(), "SIGINT"),
        install(SignalKind::terminate(), "SIGTERM"),
        install(SignalKind::hangup(), "SIGHUP"),
    );
    async move {
        tokio::select! {
            name = int => name,
            name = term => name,
            name = hup => name,
        }
    }
}
