package redistest

import (
	"fmt"
	"strconv"
	"strings"
)

// ClientInfo is one line of CLIENT LIST.
type ClientInfo struct {
	// ID is the client id, the argument of KillClient.
	ID int64
	// Addr is the client's address as Redis sees it, "ip:port".
	Addr string
	// Name is the name set with CLIENT SETNAME, or "".
	Name string
	// Flags are the client flags, such as "N" (none), "P" (pub/sub) or "S" (replica).
	Flags string
	// Cmd is the last command the client ran, such as "subscribe" or "client|list".
	Cmd string
	// Sub is the number of channel subscriptions.
	Sub int
	// Psub is the number of pattern subscriptions.
	Psub int
	// Ssub is the number of shard channel subscriptions (0 when the server
	// does not report it).
	Ssub int
	// Fields holds every field of the line, by name, including the ones
	// above (for example "omem", "tot-mem" or "user").
	Fields map[string]string
}

// ClientList returns the clients connected to the server, parsed from
// CLIENT LIST. The connection that asks is in the list too, with Cmd
// "client|list".
func (s *Server) ClientList() ([]ClientInfo, error) {
	text, err := s.Command("CLIENT", "LIST")
	if err != nil {
		return nil, fmt.Errorf("CLIENT LIST on %s: %w", s.Addr, err)
	}
	var clients []ClientInfo
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		c, err := parseClientLine(line)
		if err != nil {
			return nil, fmt.Errorf("CLIENT LIST on %s: %w", s.Addr, err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}

func parseClientLine(line string) (ClientInfo, error) {
	c := ClientInfo{Fields: map[string]string{}}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return c, fmt.Errorf("field %q without '=' in %q", f, line)
		}
		c.Fields[k] = v
	}
	id, err := strconv.ParseInt(c.Fields["id"], 10, 64)
	if err != nil {
		return c, fmt.Errorf("bad id in %q", line)
	}
	c.ID = id
	c.Addr, c.Name, c.Flags, c.Cmd = c.Fields["addr"], c.Fields["name"], c.Fields["flags"], c.Fields["cmd"]
	for _, n := range []struct {
		key string
		dst *int
	}{{"sub", &c.Sub}, {"psub", &c.Psub}, {"ssub", &c.Ssub}} {
		v, ok := c.Fields[n.key]
		if !ok {
			continue
		}
		if *n.dst, err = strconv.Atoi(v); err != nil {
			return c, fmt.Errorf("bad %s in %q", n.key, line)
		}
	}
	return c, nil
}

// KillClient closes the connection of the client with the given id
// (CLIENT KILL ID id). It is an error if no such client is connected.
func (s *Server) KillClient(id int64) error {
	n, err := s.Command("CLIENT", "KILL", "ID", strconv.FormatInt(id, 10))
	if err != nil {
		return fmt.Errorf("CLIENT KILL ID %d on %s: %w", id, s.Addr, err)
	}
	if n != "1" {
		return fmt.Errorf("CLIENT KILL ID %d on %s: no such client", id, s.Addr)
	}
	return nil
}

// Info returns the fields of INFO section (all default sections when
// section is ""), such as info["total_net_output_bytes"] for "stats".
func (s *Server) Info(section string) (map[string]string, error) {
	args := []string{"INFO"}
	if section != "" {
		args = append(args, section)
	}
	text, err := s.Command(args...)
	if err != nil {
		return nil, fmt.Errorf("INFO %s on %s: %w", section, s.Addr, err)
	}
	return parseInfo(text), nil
}

// parseInfo parses "key:value" lines, skipping "# Section" headers.
func parseInfo(text string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// SetUser runs ACL SETUSER with the given rules, the first of which is the
// user name: SetUser("alice", "on", ">secret", "~*", "+@all"). Command keeps
// running as the default user.
func (s *Server) SetUser(rules ...string) error {
	if _, err := s.Command(append([]string{"ACL", "SETUSER"}, rules...)...); err != nil {
		return fmt.Errorf("ACL SETUSER on %s: %w", s.Addr, err)
	}
	return nil
}
