//! Leader election on a `coordination.k8s.io/v1` Lease (docs/compatibility.md#leader-election), with client-go's
//! rules: a holder renews every retry period; it steps down when it has not renewed for the
//! renew deadline, which is shorter than the lease, so it has stopped leader-only work
//! before anyone else may take over; others take the lease only after watching it stay
//! unchanged for a whole lease duration (measured on their own clock, so clock skew
//! between nodes does not matter); writes use the object's resourceVersion, so two
//! candidates can never both win; on shutdown the holder releases the lease at once.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio::time::Instant;

/// The three durations of an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How long a lease lasts without renewal before others may take it.
    pub lease_duration: Duration,
    /// How long the holder keeps leading while renewals fail.
    pub renew_deadline: Duration,
    /// How often everyone tries to acquire or renew.
    pub retry_period: Duration,
}

impl Default for LeaseTiming {
    /// Upstream's values: 15 s, 10 s, 2 s.
    fn default() -> Self {
        LeaseTiming {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// What a candidate last saw of the lease, and when (on its own clock).
#[derive(Debug, Clone, PartialEq)]
struct Observed {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    lease_duration: Option<i32>,
    at: Instant,
}

/// One candidate in the election of a module's replicas.
#[derive(Debug)]
pub struct LeaderElector {
    api: Api<Lease>,
    name: String,
    identity: String,
    timing: LeaseTiming,
    leader: watch::Sender<bool>,
    observed: Option<Observed>,
    last_renew: Option<Instant>,
}

impl LeaderElector {
    /// A candidate for the lease `name` in `namespace`, known as `identity`.
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        timing: LeaseTiming,
    ) -> LeaderElector {
        LeaderElector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            timing,
            leader: watch::channel(false).0,
            observed: None,
            last_renew: None,
        }
    }

    /// Leadership as it changes: `true` while this candidate leads.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader.subscribe()
    }

    /// Campaigns until `shutdown` turns true, then releases the lease if held.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.round().await;
            tokio::select! {
                _ = tokio::time::sleep(self.timing.retry_period) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        if *self.leader.borrow() {
            self.set_leader(false);
            self.release().await;
        }
    }

    /// One attempt to acquire or renew, and the step-down check.
    async fn round(&mut self) {
        // An attempt must not outlive the leadership it renews: the client retries
        // unavailable servers with long backoffs, so a leader waits only until its renew
        // deadline (a candidate for as long) before it counts the attempt failed.
        let deadline = match self.last_renew.filter(|_| *self.leader.borrow()) {
            Some(renewed) => renewed + self.timing.renew_deadline,
            None => Instant::now() + self.timing.renew_deadline,
        };
        let attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew())
            .await
            .unwrap_or_else(|_| Err(kube::Error::Service("lease request timed out".into())));
        match attempt {
            Ok(true) => {
                self.last_renew = Some(Instant::now());
                self.set_leader(true);
            }
            Ok(false) => self.set_leader(false),
            Err(e) => {
                tracing::debug!(lease = %self.name, error = %e, "lease attempt failed");
                let overdue = self
                    .last_renew
                    .is_none_or(|at| at.elapsed() >= self.timing.renew_deadline);
                if *self.leader.borrow() && overdue {
                    tracing::warn!(lease = %self.name, "could not renew the lease within the renew deadline; stepping down");
                    self.set_leader(false);
                }
            }
        }
    }

    fn set_leader(&mut self, leader: bool) {
        if *self.leader.borrow() != leader {
            tracing::info!(lease = %self.name, identity = %self.identity, leader, "leadership changed");
            if !leader {
                self.last_renew = None;
            }
        }
        self.leader.send_if_modified(|current| {
            let changed = *current != leader;
            *current = leader;
            changed
        });
    }

    /// `Ok(true)` when this candidate holds the lease after the attempt.
    async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = MicroTime(jiff_now());
        let Some(current) = self.api.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec_for_us(None, now)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = current.spec.clone().unwrap_or_default();
        self.observe(&spec);
        let held_by_us = spec.holder_identity.as_deref() == Some(self.identity.as_str());
        if !held_by_us && !self.expired(&spec) {
            return Ok(false);
        }
        let mut next = current;
        next.spec = Some(self.spec_for_us(Some(&spec), now));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &next)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Notes a changed record; the lease-duration clock restarts on every change.
    fn observe(&mut self, spec: &LeaseSpec) {
        let unchanged = self.observed.as_ref().is_some_and(|o| {
            o.holder == spec.holder_identity
                && o.renew_time == spec.renew_time
                && o.lease_duration == spec.lease_duration_seconds
        });
        if !unchanged {
            self.observed = Some(Observed {
                holder: spec.holder_identity.clone(),
                renew_time: spec.renew_time.clone(),
                lease_duration: spec.lease_duration_seconds,
                at: Instant::now(),
            });
        }
    }

    /// Whether the lease may be taken: nobody holds it, or the holder has not renewed it
    /// for its whole duration as observed here.
    fn expired(&self, spec: &LeaseSpec) -> bool {
        if spec.holder_identity.as_deref().is_none_or(str::is_empty) {
            return true;
        }
        let duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map(Duration::from_secs)
            .unwrap_or(self.timing.lease_duration);
        self.observed
            .as_ref()
            .is_some_and(|o| o.at.elapsed() >= duration)
    }

    /// The spec that makes us the holder, counting a transition when the holder changes.
    fn spec_for_us(&self, previous: Option<&LeaseSpec>, now: MicroTime) -> LeaseSpec {
        let ours = previous
            .and_then(|p| p.holder_identity.as_deref())
            .is_some_and(|h| h == self.identity);
        let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.timing.lease_duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: if ours {
                previous.and_then(|p| p.acquire_time.clone())
            } else {
                Some(now.clone())
            },
            renew_time: Some(now),
            lease_transitions: Some(if ours || previous.is_none() {
                transitions
            } else {
                transitions.saturating_add(1)
            }),
            ..previous.cloned().unwrap_or_default()
        }
    }

    /// Gives the lease up so another replica takes over at its next retry instead of
    /// waiting for the lease to expire (client-go's `ReleaseOnCancel`).
    async fn release(&mut self) {
        let Ok(Some(mut current)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let Some(spec) = current.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(jiff_now()));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &current)
            .await
        {
            Ok(_) => tracing::info!(lease = %self.name, "lease released"),
            Err(e) => tracing::warn!(lease = %self.name, error = %e, "could not release the lease"),
        }
    }
}

/// Now, in the timestamp type the API types use.
pub(crate) fn jiff_now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}
