# mamori messages (English): network scan findings.
# Each finding code has a title (what is wrong), why (why it matters) and fix (what to do).
# Arguments: $host (IP address), $port (port number; may be empty), $detail (a short technical detail: product and version, TLS version, community name, service name).
# Terms follow the MHLW checklist (restricting connection sources, device ledger, vendors). No item numbers.

## Severity
finding-severity-critical = Critical
finding-severity-high = High
finding-severity-medium = Medium
finding-severity-low = Low
finding-severity-info = Info

## Status
finding-status-open = Open
finding-status-in_progress = In progress
finding-status-resolved = Resolved
finding-status-accepted = Risk accepted
finding-status-false_positive = False positive

## Telnet
finding-plaintext-telnet-title = Telnet is enabled on { $host } (port { $port }).
finding-plaintext-telnet-why = Telnet sends passwords and everything typed without encryption, so anyone who can watch the clinic network can take over the device. It is used to bring in ransomware and to change the settings of medical and network devices.
finding-plaintext-telnet-fix = Ask the maintenance vendor or the manufacturer to turn Telnet off, and to use an encrypted method such as SSH if they need it for maintenance. Afterwards, scan again and check that this finding is gone. This relates to the checklist item on stopping unneeded software and services.

## FTP
finding-plaintext-ftp-title = FTP is enabled on { $host } (port { $port }).
finding-plaintext-ftp-why = FTP sends passwords and file contents without encryption, so login details and files containing patient data can be read by others on the network.
finding-plaintext-ftp-fix = If it is not used, ask the maintenance vendor or the manufacturer to turn FTP off. If files must be exchanged, switch to an encrypted method such as SFTP and allow only the computers that need it (restricting connection sources). Afterwards, scan again and check that this finding is gone.

## SMBv1
finding-smbv1-enabled-title = File sharing (SMB) on { $host } (port { $port }) accepts the old SMBv1 protocol.
finding-smbv1-enabled-why = SMBv1 is the old protocol that WannaCry and other ransomware used to spread. Once one computer is infected, it can spread to the electronic medical record terminals and servers on the same network.
finding-smbv1-enabled-fix = Ask the maintenance vendor or the manufacturer whether any device (old multifunction printers, medical devices) still needs SMBv1, then have SMBv1 turned off (on Windows: turn off "SMB 1.0/CIFS File Sharing Support"). Afterwards, check that shared folders and scan-to-folder still work, and scan again to check that this finding is gone.

## SMB signing
finding-smb-signing-not-required-title = File sharing (SMB) on { $host } (port { $port }) does not require signing.
finding-smb-signing-not-required-why = Without required signing, an attacker inside the clinic network can relay connections and pose as a legitimate user to reach servers and shared folders (a relay attack).
finding-smb-signing-not-required-fix = Ask the maintenance vendor to enable "Microsoft network server: Digitally sign communications (always)" in the security policy of the servers and PCs. Old devices may fail to connect afterwards, so check that every device that uses the shared folders still connects, and scan again to check that this finding is gone.

## Remote Desktop
finding-rdp-nla-not-required-title = Remote Desktop on { $host } (port { $port }) accepts connections without Network Level Authentication (NLA).
finding-rdp-nla-not-required-why = Without NLA, anyone can connect before logging in, which makes password guessing and takeover through known vulnerabilities easier. Remote Desktop is one of the main ways ransomware gets in.
finding-rdp-nla-not-required-fix = Ask the maintenance vendor to require Network Level Authentication in the Remote Desktop settings and to allow only the computers that need it (restricting connection sources); if Remote Desktop is not used, turn it off. Afterwards, scan again and check that this finding is gone.

## MQTT
finding-mqtt-anonymous-title = The MQTT broker on { $host } (port { $port }) accepts connections without a user name and password.
finding-mqtt-anonymous-why = MQTT carries data between sensors, monitoring devices and similar equipment in the clinic. If anyone can connect, patient data can be read, and false data or commands can be sent to control the devices.
finding-mqtt-anonymous-fix = Ask the device manufacturer or the maintenance vendor to forbid connections without credentials and to give each device its own user name and password (with TLS encryption where possible). Also allow only the devices that need it (restricting connection sources). Afterwards, check that device data still arrives, and scan again to check that this finding is gone.

## SNMP
finding-snmp-default-community-title = SNMP on { $host } (port { $port }) answers to the default community name "{ $detail }".
finding-snmp-default-community-why = The community name works as a password, so with the default anyone can read the device settings and the layout of the network. With "private", settings can be changed and routers or printers can be taken over.
finding-snmp-default-community-fix = Ask the maintenance vendor or the manufacturer to turn SNMP off if it is not used, or else to set a hard-to-guess community name or switch to SNMPv3 (with authentication and encryption). Also make it answer only the monitoring server (restricting connection sources). Afterwards, scan again and check that this finding is gone.

## TLS: old versions
finding-tls-old-protocol-title = { $host } (port { $port }) accepts connections with old encryption ({ $detail }).
finding-tls-old-protocol-why = TLS 1.0, TLS 1.1 and SSL 3.0 have known weaknesses, so traffic with login details or patient data can be read or altered. TLS 1.2 or later is recommended today.
finding-tls-old-protocol-fix = Ask the maintenance vendor or the manufacturer to accept only TLS 1.2 or later. Old computers or software may fail to connect afterwards, so check that the computers in use still connect, and scan again to check that this finding is gone.

## TLS: expired certificate
finding-tls-cert-expired-title = The server certificate of { $host } (port { $port }) has expired.
finding-tls-cert-expired-why = With an expired certificate, users cannot tell whether they reach the real server. Once clicking through warnings becomes a habit, passwords and patient data may be sent to a fake server, and some systems stop connecting altogether, which can halt care.
finding-tls-cert-expired-fix = Ask the maintenance vendor of the device or system to renew the certificate. Afterwards, check that the computers that connect show no warning, and scan again to check that this finding is gone. Record the next expiry date in the device ledger so that renewal can be requested in time.

## TLS: certificate expiring soon
finding-tls-cert-expiring-soon-title = The server certificate of { $host } (port { $port }) expires within 30 days.
finding-tls-cert-expiring-soon-why = Once it expires, users get warnings and some systems stop connecting, which can halt care and daily work.
finding-tls-cert-expiring-soon-fix = Ask the maintenance vendor of the device or system to renew the certificate before it expires. Afterwards, scan again and check that this finding is gone. Record the next expiry date in the device ledger.

## TLS: self-signed certificate
finding-tls-self-signed-title = The server certificate of { $host } (port { $port }) is self-signed (issued by the device itself).
finding-tls-self-signed-why = With a self-signed certificate, clients cannot check that they reach the real server. Users who get used to clicking through warnings will not notice a fake server.
finding-tls-self-signed-fix = Ask the maintenance vendor or the manufacturer whether the certificate can be replaced by one issued by a certificate authority. If the device cannot do that, allow only the computers that need it (restricting connection sources) and record the finding as risk accepted, with the reason.

## TLS: weak key
finding-tls-weak-key-title = The server certificate key of { $host } (port { $port }) is too short ({ $detail }).
finding-tls-weak-key-why = A short key is easier to break, so traffic can be read or the server impersonated. RSA keys of 2048 bits or more are required today.
finding-tls-weak-key-fix = Ask the maintenance vendor or the manufacturer to issue a new certificate with a key of 2048 bits or more. If an old device cannot do that, discuss a firmware update or replacing the device. Afterwards, scan again and check that this finding is gone.

## SSH
finding-ssh-weak-algorithms-title = SSH on { $host } (port { $port }) allows weak algorithms.
finding-ssh-weak-algorithms-why = Old algorithms such as SHA-1, CBC, 3DES, RC4, MD5 and DSA help an attacker decrypt traffic or impersonate the server. The risk of immediate intrusion is low, but the connection used for maintenance should be protected.
finding-ssh-weak-algorithms-fix = Ask the maintenance vendor or the manufacturer to remove the weak algorithms ({ $detail }) from the SSH settings, or to update the software. Afterwards, check that maintenance staff can still connect with SSH, and scan again to check that this finding is gone.

## DICOM
finding-dicom-any-ae-accepted-title = The DICOM service on { $host } (port { $port }) accepts connections from unregistered peers.
finding-dicom-any-ae-accepted-why = Any device on the clinic network may send and retrieve images. Patient images and names can be taken out, or false images sent in.
finding-dicom-any-ae-accepted-fix = Ask the PACS or imaging device manufacturer or maintenance vendor to register the peers that may connect (AE title and IP address) and refuse all others. Afterwards, check that the imaging devices and reading workstations can still send and receive images, and scan again to check that this finding is gone. This relates to the checklist item on restricting connection sources.

## Orthanc
finding-orthanc-rest-no-auth-title = The image server (Orthanc) on { $host } (port { $port }) can be used without logging in.
finding-orthanc-rest-no-auth-why = Anyone who can reach this port can view and download the stored medical images and patients' names and dates of birth, and may delete them. This is a serious leak of personal data.
finding-orthanc-rest-no-auth-fix = Ask the maintenance vendor at once to turn on authentication in Orthanc with a password for each user, and to allow only the computers that need it (restricting connection sources). Afterwards, check that images cannot be viewed without logging in, and scan again to check that this finding is gone. This relates to the checklist items on access rights and on restricting connection sources.

## FHIR
finding-fhir-no-security-title = The FHIR server on { $host } (port { $port }) declares no authentication.
finding-fhir-no-security-why = A FHIR server is a gateway to clinical data such as electronic medical records. Without authentication, anyone who can connect may read or change patient data.
finding-fhir-no-security-fix = Ask the system vendor to set up authentication on the FHIR server (OAuth 2.0, SMART on FHIR or similar) and to allow only the peers that need it (restricting connection sources). If authentication is done by another component, confirm the details with the vendor and record the finding as a false positive, with the reason. Afterwards, scan again and check that this finding is gone.

## HL7
finding-hl7-open-listener-title = The HL7 listener on { $host } (port { $port }) accepted a message from an unregistered sender.
finding-hl7-open-listener-why = Any device on the clinic network may send in messages such as orders and test results, so false data can end up in the electronic medical record or departmental systems.
finding-hl7-open-listener-fix = Ask the vendor of the electronic medical record or departmental system to accept messages only from the expected senders (by IP address) (restricting connection sources). Afterwards, check that messages from the real systems still arrive, and scan again to check that this finding is gone.

## Device not in the ledger
finding-unknown-device-title = A device that is not in the device ledger was found ({ $host }).
finding-unknown-device-why = Devices missing from the ledger tend to miss security patches and password management. It may also be a personal device, or one placed by an attacker.
finding-unknown-device-fix = Find out where it is, what it is for and which vendor manages it, and add it to the device ledger if it belongs to the clinic. If nobody knows it, consult the network maintenance vendor about disconnecting it. This relates to the checklist item on keeping a device ledger.

## Segment rule
finding-segment-rule-violation-title = A service not allowed in this network segment ({ $detail }) is running on { $host } (port { $port }).
finding-segment-rule-violation-why = File sharing or Remote Desktop in a segment set apart for medical devices gives ransomware a path from the office network to the medical devices.
finding-segment-rule-violation-fix = Ask the maintenance vendor or the device manufacturer to stop the service or to move the device to the segment it belongs in. If the service is truly needed, allow only the peers that need it (restricting connection sources) and record the finding as risk accepted, with the reason. Afterwards, scan again and check that this finding is gone.

## Default password
finding-default-credentials-title = A login on { $host } (port { $port }) succeeded with the manufacturer's default password.
finding-default-credentials-why = Default passwords are published in manuals and on the internet, so any attacker inside the clinic network can operate this device. It can become a way in for ransomware, or the settings of medical and network devices can be changed.
finding-default-credentials-fix = Ask the maintenance vendor or the device manufacturer at once to change it to a password of 8 or more characters mixing letters, digits and symbols that is not used anywhere else. Keep the new password where only administrators can see it, record the account in the account ledger, and scan again to check that this finding is gone. This relates to the checklist items on passwords and on not reusing passwords.
