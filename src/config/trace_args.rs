//! The trace flags of `longrun serve`: where spans are exported over OTLP,
//! and how. Off unless an endpoint is given, by the flag or by the
//! environment variables OpenTelemetry's SDKs read, with the same meaning:
//! the signal's own `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as it is,
//! the general `OTEL_EXPORTER_OTLP_ENDPOINT` (like the flag) is a base that
//! HTTP appends `/v1/traces` to; `OTEL_SDK_DISABLED=true` and
//! `OTEL_TRACES_EXPORTER=none` turn traces off.

use clap::Args;

use crate::telemetry::traces::{OtlpProtocol, TraceSettings};

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "Telemetry")]
pub struct TraceArgs {
    /// Export trace spans over OTLP to this collector, e.g.
    /// http://127.0.0.1:4318 (HTTP, which sends to its /v1/traces) or
    /// http://127.0.0.1:4317 (gRPC); off when unset.
    /// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and OTEL_EXPORTER_OTLP_ENDPOINT
    /// are read as OpenTelemetry's SDKs read them; this flag wins.
    #[arg(long, env = "LONGRUN_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// How spans travel: http/protobuf (OpenTelemetry's default) or grpc.
    /// Else from OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
    /// OTEL_EXPORTER_OTLP_PROTOCOL.
    #[arg(long, env = "LONGRUN_OTLP_PROTOCOL", value_name = "PROTOCOL")]
    pub otlp_protocol: Option<ProtocolArg>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    #[value(name = "grpc")]
    Grpc,
}

impl From<ProtocolArg> for OtlpProtocol {
    fn from(arg: ProtocolArg) -> Self {
        match arg {
            ProtocolArg::HttpProtobuf => OtlpProtocol::HttpProtobuf,
            ProtocolArg::Grpc => OtlpProtocol::Grpc,
        }
    }
}

/// A trace setting that cannot be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceConfigError {
    #[error("{source_name} {value:?}: use grpc or http/protobuf")]
    Protocol { source_name: String, value: String },
    #[error("{source_name} {value:?}: not an http:// or https:// URL")]
    Endpoint { source_name: String, value: String },
}

impl TraceArgs {
    /// Where spans go, or `None` with traces off. `env` reads an
    /// environment variable (the process's, or a test's table);
    /// `service_name` is --service-name, and `service_name_given` says
    /// whether it was set (else `OTEL_SERVICE_NAME` may name the service).
    pub fn settings(
        &self,
        service_name: &str,
        service_name_given: bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<TraceSettings>, TraceConfigError> {
        let env = |name: &str| env(name).filter(|value| !value.trim().is_empty());
        let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || env("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        if disabled {
            return Ok(None);
        }
        let protocol = match self.otlp_protocol {
            Some(arg) => OtlpProtocol::from(arg),
            None => env_protocol(&env)?,
        };
        let flag = self
            .otlp_endpoint
            .clone()
            .filter(|value| !value.trim().is_empty());
        let (source_name, value, base) = if let Some(value) = flag {
            ("--otlp-endpoint", value, true)
        } else if let Some(value) = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", value, false)
        } else if let Some(value) = env("OTEL_EXPORTER_OTLP_ENDPOINT") {
            ("OTEL_EXPORTER_OTLP_ENDPOINT", value, true)
        } else {
            return Ok(None);
        };
        let value = value.trim().to_owned();
        if !is_http_url(&value) {
            return Err(TraceConfigError::Endpoint {
                source_name: source_name.to_owned(),
                value,
            });
        }
        let endpoint = match (base, protocol) {
            (true, OtlpProtocol::HttpProtobuf) => {
                format!("{}/v1/traces", value.trim_end_matches('/'))
            }
            _ => value,
        };
        let service_name = match env("OTEL_SERVICE_NAME") {
            Some(name) if !service_name_given => name,
            _ => service_name.to_owned(),
        };
        Ok(Some(TraceSettings {
            endpoint,
            protocol,
            service_name,
        }))
    }
}

/// The signal's own protocol variable wins over the general one.
fn env_protocol(env: &impl Fn(&str) -> Option<String>) -> Result<OtlpProtocol, TraceConfigError> {
    let found = [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .into_iter()
    .find_map(|name| env(name).map(|value| (name, value)));
    let Some((name, value)) = found else {
        return Ok(OtlpProtocol::HttpProtobuf);
    };
    match value.trim() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
        _ => Err(TraceConfigError::Protocol {
            source_name: name.to_owned(),
            value,
        }),
    }
}

fn is_http_url(value: &str) -> bool {
    value.parse::<http::Uri>().ok().is_some_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        args: TraceArgs,
        vars: &[(&str, &str)],
    ) -> Result<Option<TraceSettings>, TraceConfigError> {
        args.settings("svc.example.com", false, |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    fn flag(endpoint: &str) -> TraceArgs {
        TraceArgs {
            otlp_endpoint: Some(endpoint.to_owned()),
            otlp_protocol: None,
        }
    }

    #[test]
    fn no_endpoint_anywhere_means_traces_off() {
        assert_eq!(resolve(TraceArgs::default(), &[]), Ok(None));
        assert_eq!(
            resolve(
                TraceArgs::default(),
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]
            ),
            Ok(None)
        );
    }

    #[test]
    fn flag_is_a_base_that_http_appends_the_signal_path_to() {
        let settings = resolve(flag("http://127.0.0.1:4318/"), &[])
            .expect("valid")
            .expect("on");
        assert_eq!(settings.endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(settings.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(settings.service_name, "svc.example.com");
        let grpc = TraceArgs {
            otlp_protocol: Some(ProtocolArg::Grpc),
            ..flag("http://127.0.0.1:4317")
        };
        let settings = resolve(grpc, &[]).expect("valid").expect("on");
        assert_eq!(settings.endpoint, "http://127.0.0.1:4317");
        assert_eq!(settings.protocol, OtlpProtocol::Grpc);
    }

    #[test]
    fn signal_endpoint_is_used_as_is_and_wins_over_the_general_one() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://traces:4318/custom",
            ),
        ];
        let settings = resolve(TraceArgs::default(), &vars)
            .expect("valid")
            .expect("on");
        assert_eq!(settings.endpoint, "http://traces:4318/custom");
        let settings = resolve(TraceArgs::default(), &vars[..1])
            .expect("valid")
            .expect("on");
        assert_eq!(settings.endpoint, "http://general:4318/v1/traces");
        // The flag wins over both.
        let settings = resolve(flag("http://flag:4318"), &vars)
            .expect("valid")
            .expect("on");
        assert_eq!(settings.endpoint, "http://flag:4318/v1/traces");
    }

    #[test]
    fn protocol_comes_from_the_flag_then_the_signal_then_the_general_variable() {
        let vars = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
        ];
        let endpoint = || flag("http://c:4317");
        let protocol = |args: TraceArgs, vars: &[(&str, &str)]| {
            resolve(args, vars).expect("valid").expect("on").protocol
        };
        assert_eq!(protocol(endpoint(), &vars), OtlpProtocol::Grpc);
        assert_eq!(protocol(endpoint(), &vars[..1]), OtlpProtocol::HttpProtobuf);
        let http = TraceArgs {
            otlp_protocol: Some(ProtocolArg::HttpProtobuf),
            ..endpoint()
        };
        assert_eq!(protocol(http, &vars), OtlpProtocol::HttpProtobuf);
        // gRPC sends to the endpoint as given, with no signal path.
        let settings = resolve(endpoint(), &vars).expect("valid").expect("on");
        assert_eq!(settings.endpoint, "http://c:4317");
    }

    #[test]
    fn unsupported_protocol_and_bad_url_are_refused_naming_their_source() {
        let err = resolve(
            flag("http://c:4318"),
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
        )
        .expect_err("refused");
        assert_eq!(
            err.to_string(),
            r#"OTEL_EXPORTER_OTLP_PROTOCOL "http/json": use grpc or http/protobuf"#
        );
        let err = resolve(flag("127.0.0.1:4318"), &[]).expect_err("refused");
        assert_eq!(
            err.to_string(),
            r#"--otlp-endpoint "127.0.0.1:4318": not an http:// or https:// URL"#
        );
    }

    #[test]
    fn sdk_disabled_or_no_exporter_turns_traces_off() {
        for var in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            assert_eq!(resolve(flag("http://c:4318"), &[var]), Ok(None), "{var:?}");
        }
    }

    #[test]
    fn otel_service_name_names_the_service_only_when_the_flag_is_not_given() {
        let vars = [("OTEL_SERVICE_NAME", "from-otel")];
        let settings = resolve(flag("http://c:4318"), &vars)
            .expect("valid")
            .expect("on");
        assert_eq!(settings.service_name, "from-otel");
        let given = flag("http://c:4318")
            .settings("svc.example.com", true, |name| {
                (name == "OTEL_SERVICE_NAME").then(|| "from-otel".to_owned())
            })
            .expect("valid")
            .expect("on");
        assert_eq!(given.service_name, "svc.example.com");
    }
}
