//! Structs read from a JSON object or YAML mapping only. `serde`'s derived structs also take a
//! sequence of their fields in order, so `["2008", "C8VLZXY", "Confirmed", ...]` of the right
//! length was read as a campaign (and one of another length refused as "invalid length"). The
//! structs of snapshots, consent exports, policies, `policy test` files and `policy eval` corpora
//! are read through [`mapping_only!`] instead, and a sequence where one belongs is "invalid type:
//! sequence, expected ...".

/// `Deserialize` (and with `serialize`, `Serialize`) for structs derived with
/// `#[serde(remote = "Self")]`, which leaves the derived code as the types' own `deserialize`
/// and `serialize` functions: read from a mapping only, as `expected` says it (`"an object"`),
/// and written as derived.
#[macro_export]
macro_rules! mapping_only {
    ($expected:literal; $($t:ty),+ $(,)?) => {$(
        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct Mapping;
                impl<'de> ::serde::de::Visitor<'de> for Mapping {
                    type Value = $t;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str($expected)
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> ::std::result::Result<$t, A::Error> {
                        <$t>::deserialize(::serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                d.deserialize_map(Mapping)
            }
        }
    )+};
    ($expected:literal, serialize; $($t:ty),+ $(,)?) => {
        $crate::mapping_only!($expected; $($t),+);
        $(
            impl ::serde::Serialize for $t {
                fn serialize<S: ::serde::Serializer>(
                    &self,
                    s: S,
                ) -> ::std::result::Result<S::Ok, S::Error> {
                    <$t>::serialize(self, s)
                }
            }
        )+
    };
}
