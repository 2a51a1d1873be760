package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TLSOptions configures NewTLSStandalone.
type TLSOptions struct {
	// AuthClients makes the server require a client certificate signed by
	// the test CA (tls-auth-clients yes); otherwise none is asked for.
	AuthClients bool
}

// TLSServer is a standalone redis-server with a TLS port, started by
// NewTLSStandalone, and the certificates it was given.
type TLSServer struct {
	// Server is the server, with Addr and Command on its plain-text port
	// (loopback only), for setup and assertions as the default user.
	Server *Server
	// TLSAddr is "127.0.0.1:port" of the TLS port.
	TLSAddr string
	// TLSPort is the TLS port.
	TLSPort int
	// CAFile is the PEM file of the CA that signed the server and client
	// certificates, for clients configured by file.
	CAFile string
	// ClientCertFile and ClientKeyFile are the PEM client certificate and
	// key, signed by the CA.
	ClientCertFile, ClientKeyFile string

	roots      *x509.CertPool
	clientCert tls.Certificate
}

// NewTLSStandalone starts a standalone server owned by the calling test
// with a TLS port besides its plain-text one. A CA, a server certificate
// for 127.0.0.1 and localhost and a client certificate are generated for
// the test (in Go, no openssl needed) and written to its temporary
// directory. Restart keeps the TLS port and certificates.
func NewTLSStandalone(tb testing.TB, opts TLSOptions) *TLSServer {
	tb.Helper()
	dir := tb.TempDir()
	ts, err := writePKI(dir)
	if err != nil {
		tb.Fatalf("redistest: certificates: %v", err)
	}
	auth := "no"
	if opts.AuthClients {
		auth = "yes"
	}
	extra := []string{"--tls-cert-file", filepath.Join(dir, "server.crt"), "--tls-key-file", filepath.Join(dir, "server.key"),
		"--tls-ca-cert-file", ts.CAFile, "--tls-auth-clients", auth}
	mu.Lock()
	s, err := start(config{extra: extra, tlsPort: true})
	mu.Unlock()
	if err != nil {
		tb.Fatalf("redistest: TLS server (redis-server must be built with TLS support, as Debian's is): %v", err)
	}
	stopAtEnd(tb, s)
	ts.Server = s
	ts.TLSPort = s.tlsPort
	ts.TLSAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
	return ts
}

// ClientTLS returns a new client configuration trusting the test CA, for
// ServerName 127.0.0.1, with the client certificate when withCert is set.
func (t *TLSServer) ClientTLS(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: t.roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if withCert {
		cfg.Certificates = []tls.Certificate{t.clientCert}
	}
	return cfg
}

// writePKI generates the CA, server and client certificates and keys and
// writes them as PEM files in dir.
func writePKI(dir string) (*TLSServer, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caDER, ca, err := sign(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ts := &TLSServer{CAFile: filepath.Join(dir, "ca.crt"), ClientCertFile: filepath.Join(dir, "client.crt"),
		ClientKeyFile: filepath.Join(dir, "client.key"), roots: x509.NewCertPool()}
	ts.roots.AddCert(ca)
	if err := writePEM(ts.CAFile, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}
	leaf := func(name string, tmpl *x509.Certificate) (tls.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, _, err := sign(tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der); err != nil {
			return tls.Certificate{}, err
		}
		if err := writePEM(filepath.Join(dir, name+".key"), "PRIVATE KEY", keyDER); err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	if _, err := leaf("server", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return nil, err
	}
	if ts.clientCert, err = leaf("client", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "redistest client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, err
	}
	return ts, nil
}

// sign gives tmpl a random serial number and signs it with parent's key.
func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, parentKey *ecdsa.PrivateKey) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
