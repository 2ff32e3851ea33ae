//! The `protocol!` macro: from one list of methods and notifications it
//! makes the `Handler` trait the server implements, the jsonrpsee module
//! that dispatches to it, the typed `Notification` enum the server pushes,
//! and the descriptions the OpenRPC document and the generated clients are
//! made from. Adding a method is one entry in that list (and its body in
//! the server, which the compiler asks for).

macro_rules! protocol {
    (
        methods {
            $(
                $(#[doc = $mdoc:literal])+
                $mname:literal => fn $mfn:ident($mparams:ident) -> $mresult:ty, errors [$($merr:ident),* $(,)?];
            )+
        }
        notifications {
            $(
                $(#[doc = $ndoc:literal])+
                $nname:literal => $nvariant:ident($nparams:ident);
            )+
        }
    ) => {
        /// What the server does for each method. Every method runs on the
        /// blocking pool, so it may use the store; a slow one never holds up
        /// another.
        pub trait Handler: Send + Sync + 'static {
            $(
                $(#[doc = $mdoc])+
                fn $mfn(&self, params: $mparams) -> Result<$mresult, $crate::error::Error>;
            )+
        }

        /// Every method of `handler`, registered with jsonrpsee under its name.
        pub fn rpc_module<H: Handler>(
            handler: std::sync::Arc<H>,
        ) -> Result<jsonrpsee::RpcModule<H>, jsonrpsee::core::RegisterMethodError> {
            let mut module = jsonrpsee::RpcModule::from_arc(handler);
            $(
                module.register_async_method($mname, |params, handler, _| async move {
                    let params: $mparams = $crate::protocol::params::parse(&params)?;
                    $crate::protocol::blocking(move || handler.$mfn(params)).await
                })?;
            )+
            Ok(module)
        }

        /// The names of the methods, in the order declared.
        pub const METHOD_NAMES: &[&str] = &[$($mname),+];

        /// A notification the server pushes, unasked.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Notification {
            $( $(#[doc = $ndoc])+ $nvariant($nparams), )+
        }

        impl Notification {
            /// Its method name on the wire.
            pub fn method(&self) -> &'static str {
                match self { $( Notification::$nvariant(_) => $nname, )+ }
            }

            /// The whole JSON-RPC message.
            pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
                match self {
                    $( Notification::$nvariant(params) => serde_json::to_vec(&$crate::protocol::Message::new($nname, params)), )+
                }
            }
        }

        /// The methods, for the document and the generated clients.
        pub fn method_specs(g: &mut schemars::SchemaGenerator) -> Vec<$crate::protocol::MethodSpec> {
            vec![$(
                $crate::protocol::MethodSpec {
                    name: $mname,
                    summary: $crate::protocol::doc_text(&[$($mdoc),+]),
                    params: $crate::protocol::TypeSpec::of::<$mparams>(g, stringify!($mparams)),
                    result: $crate::protocol::TypeSpec::of::<$mresult>(g, stringify!($mresult)),
                    errors: vec![$($crate::protocol::ErrorCode::$merr),*],
                },
            )+]
        }

        /// The notifications, for the document and the generated clients.
        pub fn notification_specs(g: &mut schemars::SchemaGenerator) -> Vec<$crate::protocol::NotificationSpec> {
            vec![$(
                $crate::protocol::NotificationSpec {
                    name: $nname,
                    summary: $crate::protocol::doc_text(&[$($ndoc),+]),
                    params: $crate::protocol::TypeSpec::of::<$nparams>(g, stringify!($nparams)),
                },
            )+]
        }
    };
}
