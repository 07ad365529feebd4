//! Addresses and ranges: [`IpNet`] (a CIDR block) and [`Segment`] (a named block from the
//! institution's network ledger). Pure; no I/O.

use crate::ScanError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A CIDR block such as `192.168.10.0/24` or a single address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The block containing `addr` with `prefix` bits; host bits are cleared.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, ScanError> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(ScanError::InvalidTarget { input: format!("{addr}/{prefix}"), reason: "prefix too long" });
        }
        Ok(Self { addr: mask(addr, prefix), prefix })
    }

    pub fn single(addr: IpAddr) -> Self {
        Self { addr, prefix: if addr.is_ipv4() { 32 } else { 128 } }
    }

    pub fn network(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }

    /// True when every address of `other` is inside `self`.
    pub fn contains_net(&self, other: &IpNet) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    /// Number of addresses in the block (all of them, network and broadcast included).
    pub fn size(&self) -> u128 {
        let bits = if self.addr.is_ipv4() { 32 } else { 128 } - u32::from(self.prefix);
        if bits >= 128 { u128::MAX } else { 1u128 << bits }
    }

    /// The scannable hosts: for IPv4 blocks larger than /31 the network and broadcast addresses
    /// are left out. The caller must have checked [`IpNet::size`] first.
    pub fn hosts(&self) -> Vec<IpAddr> {
        let size = self.size();
        match self.addr {
            IpAddr::V4(a) => {
                let base = u32::from(a);
                let (first, last) = if self.prefix >= 31 { (0, size as u32 - 1) } else { (1, size as u32 - 2) };
                (first..=last).map(|i| IpAddr::V4(Ipv4Addr::from(base.wrapping_add(i)))).collect()
            }
            IpAddr::V6(a) => {
                let base = u128::from(a);
                (0..size).map(|i| IpAddr::V6(Ipv6Addr::from(base.wrapping_add(i)))).collect()
            }
        }
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

impl FromStr for IpNet {
    type Err = ScanError;
    fn from_str(s: &str) -> Result<Self, ScanError> {
        let s = s.trim();
        let bad = |reason| ScanError::InvalidTarget { input: s.to_owned(), reason };
        match s.split_once('/') {
            None => s.parse::<IpAddr>().map(IpNet::single).map_err(|_| bad("not an IP address")),
            Some((a, p)) => {
                let addr = a.parse::<IpAddr>().map_err(|_| bad("not an IP address"))?;
                let prefix = p.parse::<u8>().map_err(|_| bad("prefix is not a number"))?;
                IpNet::new(addr, prefix)
            }
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpNet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A network segment registered in the institution's ledger (e.g. 医療機器 192.168.20.0/24).
/// Scans are only ever allowed inside segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The ledger name, shown to users (e.g. `医療機器`).
    pub name: String,
    pub net: IpNet,
}

impl Segment {
    pub fn new(name: impl Into<String>, net: &str) -> Result<Self, ScanError> {
        Ok(Self { name: name.into(), net: net.parse()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_contains() {
        let n: IpNet = "192.168.10.77/24".parse().unwrap();
        assert_eq!(n.to_string(), "192.168.10.0/24");
        assert!(n.contains("192.168.10.1".parse().unwrap()));
        assert!(!n.contains("192.168.11.1".parse().unwrap()));
        assert!(!n.contains("::1".parse().unwrap()));
        assert_eq!(n.hosts().len(), 254);
        let one: IpNet = "127.0.0.5".parse().unwrap();
        assert_eq!(one.hosts(), vec!["127.0.0.5".parse::<IpAddr>().unwrap()]);
        assert!(n.contains_net(&"192.168.10.128/25".parse().unwrap()));
        assert!(!n.contains_net(&"192.168.0.0/16".parse().unwrap()));
        assert_eq!("10.0.0.0/31".parse::<IpNet>().unwrap().hosts().len(), 2);
        let v6: IpNet = "::1/128".parse().unwrap();
        assert_eq!(v6.size(), 1);
        assert_eq!("::/0".parse::<IpNet>().unwrap().size(), u128::MAX);
    }

    #[test]
    fn rejects_garbage() {
        for s in ["", "10.0.0", "10.0.0.0/33", "10.0.0.0/x", "host.example", "::1/129"] {
            let e = s.parse::<IpNet>().unwrap_err();
            assert_eq!(e.code(), "invalid-target", "{s}");
        }
    }
}
