//! The health score (0–100) and status shown to admins, from measured figures only.
//!
//! Start at 100 and subtract:
//! - 50 when the database does not answer;
//! - 30 when a configured Redis is down;
//! - up to 30 for the cache hit rate below 80 % (1.5 points per percentage point), once at
//!   least 100 cacheable requests were seen;
//! - up to 20 for the slowest endpoint's p99 above 50 ms (1 point per 10 ms above).
//!
//! `healthy` from 80, `degraded` from 50, `unhealthy` below; a down Redis or database is never
//! `healthy`.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inputs {
    pub db_up: bool,
    /// `None` when Hearth is embedded.
    pub redis_up: Option<bool>,
    pub cache_requests: u64,
    pub hit_rate: f64,
    pub worst_p99_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Degraded => "degraded",
            Status::Unhealthy => "unhealthy",
        }
    }
}

pub fn score(i: Inputs) -> (u8, Status) {
    let mut s = 100.0_f64;
    if !i.db_up {
        s -= 50.0;
    }
    if i.redis_up == Some(false) {
        s -= 30.0;
    }
    if i.cache_requests >= 100 && i.hit_rate < 0.8 {
        s -= ((0.8 - i.hit_rate) * 100.0 * 1.5).min(30.0);
    }
    if i.worst_p99_ms > 50.0 {
        s -= ((i.worst_p99_ms - 50.0) / 10.0).min(20.0);
    }
    let score = s.clamp(0.0, 100.0).round() as u8;
    let mut status = match score {
        80..=100 => Status::Healthy,
        50..=79 => Status::Degraded,
        _ => Status::Unhealthy,
    };
    if status == Status::Healthy && (!i.db_up || i.redis_up == Some(false)) {
        status = Status::Degraded;
    }
    (score, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fine() -> Inputs {
        Inputs {
            db_up: true,
            redis_up: Some(true),
            cache_requests: 1000,
            hit_rate: 0.95,
            worst_p99_ms: 3.0,
        }
    }

    #[test]
    fn a_fine_system_scores_100() {
        assert_eq!(score(fine()), (100, Status::Healthy));
        assert_eq!(
            score(Inputs {
                redis_up: None,
                ..fine()
            }),
            (100, Status::Healthy)
        );
    }

    #[test]
    fn each_problem_costs_what_the_formula_says() {
        assert_eq!(
            score(Inputs {
                redis_up: Some(false),
                ..fine()
            }),
            (70, Status::Degraded)
        );
        assert_eq!(
            score(Inputs {
                db_up: false,
                ..fine()
            }),
            (50, Status::Degraded)
        );
        assert_eq!(
            score(Inputs {
                hit_rate: 0.70,
                ..fine()
            }),
            (85, Status::Healthy)
        );
        assert_eq!(
            score(Inputs {
                hit_rate: 0.0,
                ..fine()
            }),
            (70, Status::Degraded)
        );
        assert_eq!(
            score(Inputs {
                hit_rate: 0.0,
                cache_requests: 99,
                ..fine()
            }),
            (100, Status::Healthy)
        );
        assert_eq!(
            score(Inputs {
                worst_p99_ms: 150.0,
                ..fine()
            }),
            (90, Status::Healthy)
        );
        assert_eq!(
            score(Inputs {
                worst_p99_ms: 5000.0,
                ..fine()
            }),
            (80, Status::Healthy)
        );
        let all_bad = Inputs {
            db_up: false,
            redis_up: Some(false),
            cache_requests: 1000,
            hit_rate: 0.0,
            worst_p99_ms: 1000.0,
        };
        assert_eq!(score(all_bad), (0, Status::Unhealthy));
    }
}
