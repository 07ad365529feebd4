//! The local neighbour table: MAC addresses of on-link hosts from `/proc/net/arp` (Linux). Read
//! after the scan, when our own connection attempts have filled it. No packets are sent here.

use std::collections::HashMap;
use std::net::IpAddr;

/// Parses `/proc/net/arp`. Incomplete entries (flags 0x0, MAC all zero) are skipped.
pub fn parse_proc_net_arp(text: &str) -> HashMap<IpAddr, String> {
    let mut out = HashMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let (Ok(ip), flags, mac) = (f[0].parse::<IpAddr>(), f[2], f[3].to_ascii_lowercase()) else { continue };
        let complete = u32::from_str_radix(flags.trim_start_matches("0x"), 16).is_ok_and(|v| v & 0x2 != 0);
        let valid = mac.len() == 17 && mac.split(':').all(|o| o.len() == 2 && u8::from_str_radix(o, 16).is_ok());
        if complete && valid && mac != "00:00:00:00:00:00" {
            out.insert(ip, mac);
        }
    }
    out
}

/// The current neighbour table, empty where `/proc/net/arp` does not exist.
pub fn read_neighbours() -> HashMap<IpAddr, String> {
    std::fs::read_to_string("/proc/net/arp").map(|t| parse_proc_net_arp(&t)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arp_table() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.10.1     0x1         0x2         AA:bb:cc:dd:ee:ff     *        eth0\n\
                 192.168.10.7     0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                 192.168.10.8     0x1         0x2         zz:zz                 *        eth0\n\
                 garbage\n";
        let m = parse_proc_net_arp(t);
        assert_eq!(m.len(), 1);
        assert_eq!(m[&"192.168.10.1".parse::<IpAddr>().unwrap()], "aa:bb:cc:dd:ee:ff");
        assert!(parse_proc_net_arp("").is_empty());
    }
}
