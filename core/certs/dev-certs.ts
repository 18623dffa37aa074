import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import forge from 'node-forge';
import { epError } from '../errors.ts';

/**
 * A development CA and a broker (server) certificate signed by it, for `edgeprobe certs dev`.
 * node-forge builds the X.509 structures (no openssl binary needed, so it works the same on a laptop, a Pi
 * and inside the slim image); node's crypto makes the RSA keys, natively and fast.
 */
export interface DevCertificates {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  hosts: string[];
  /** sha256 of the CA certificate (DER), to compare on each device */
  caFingerprintSha256: string;
  notAfter: string;
}

export interface DevCertOptions { outDir: string; hosts: string[]; days?: number; force?: boolean; now?: Date }

const FILES = { caCert: 'ca.crt', caKey: 'ca.key', serverCert: 'server.crt', serverKey: 'server.key' } as const;

export function makeDevCertificates(opts: DevCertOptions): DevCertificates {
  const dir = resolve(opts.outDir);
  const hosts = opts.hosts.map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) throw epError('EP_CERT_NO_HOSTS');
  for (const h of hosts) {
    if (!isIP(h) && !/^[a-zA-Z0-9*]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/.test(h)) {
      throw epError('EP_CERT_HOST_INVALID', { host: h });
    }
  }
  const days = opts.days ?? 825;
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'days', range: 'a whole number of days from 1 to 3650', value: days, example: '825' });
  const existing = Object.values(FILES).filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0 && !opts.force) {
    throw epError('EP_CERT_FILES_EXIST', { dir, files: existing.join(', ') });
  }
  mkdirSync(dir, { recursive: true });

  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate small clock skew on devices
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const ca = rsaKeyPair();
  const caCert = newCert(ca.publicKey, notBefore, notAfter, [{ name: 'commonName', value: 'edgeprobe development CA' }]);
  caCert.setIssuer(caCert.subject.attributes);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const server = rsaKeyPair();
  const serverCert = newCert(server.publicKey, notBefore, notAfter, [{ name: 'commonName', value: hosts[0] }]);
  serverCert.setIssuer(caCert.subject.attributes);
  serverCert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // TLS clients match the host against subjectAltName only (CN is ignored): list every name agents use.
    { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  serverCert.sign(ca.privateKey, forge.md.sha256.create());

  const out = {
    caCert: join(dir, FILES.caCert), caKey: join(dir, FILES.caKey),
    serverCert: join(dir, FILES.serverCert), serverKey: join(dir, FILES.serverKey),
  };
  writeFileSync(out.caCert, forge.pki.certificateToPem(caCert), { mode: 0o644 });
  writeFileSync(out.serverCert, forge.pki.certificateToPem(serverCert), { mode: 0o644 });
  writeFileSync(out.caKey, ca.pem, { mode: 0o600 });
  writeFileSync(out.serverKey, server.pem, { mode: 0o600 });
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(caCert)).getBytes(), 'binary');
  return { dir, ...out, hosts, caFingerprintSha256: createHash('sha256').update(der).digest('hex'), notAfter: notAfter.toISOString() };
}

function rsaKeyPair(): { pem: string; privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { pem, privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

function newCert(publicKey: forge.pki.PublicKey, notBefore: Date, notAfter: Date, subject: forge.pki.CertificateField[]): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // 16 random bytes with the top bit clear: a positive serial, unique per certificate (RFC 5280 4.1.2.2)
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  return cert;
}
