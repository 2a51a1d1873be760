package codec

//go:generate go tool msgp -file request_legacy.go -o request_legacy_gen.go -io=false

// Request types of socket.io-redis 4.x/5.x (`requestid`, lowercase).
const (
	LegacyTypeClients          = 0
	LegacyTypeClientRooms      = 1
	LegacyTypeAllRooms         = 2
	LegacyTypeRemoteJoin       = 3
	LegacyTypeRemoteLeave      = 4
	LegacyTypeCustomRequest    = 5
	LegacyTypeRemoteDisconnect = 6
)

// LegacyMessage is the union of the socket.io-redis 4.x/5.x requests and
// responses (always JSON), for decoding (DecodeLegacy). Type.Valid is false
// for responses. Data is the customRequest payload or answer (raw
// msgpack, transcoded from JSON).
type LegacyMessage struct {
	RequestID Str     `msg:"requestid"`
	Type      OptInt  `msg:"type"`
	Rooms     Rooms   `msg:"rooms"`
	Sid       Str     `msg:"sid"`
	Room      Room    `msg:"room"`
	Close     bool    `msg:"close"`
	Data      Raw     `msg:"data"`
	Clients   Strings `msg:"clients"`
}

// LegacyClientsRequest is clients: {requestid, type:0, rooms}.
type LegacyClientsRequest struct {
	RequestID Str   `msg:"requestid"`
	Type      Int   `msg:"type"`
	Rooms     Rooms `msg:"rooms"`
}

// LegacySidRequest is clientRooms: {requestid, type:1, sid}.
type LegacySidRequest struct {
	RequestID Str `msg:"requestid"`
	Type      Int `msg:"type"`
	Sid       Str `msg:"sid"`
}

// LegacyAllRoomsRequest is allRooms: {requestid, type:2}.
type LegacyAllRoomsRequest struct {
	RequestID Str `msg:"requestid"`
	Type      Int `msg:"type"`
}

// LegacySidRoomRequest is remoteJoin / remoteLeave:
// {requestid, type:3|4, sid, room}.
type LegacySidRoomRequest struct {
	RequestID Str  `msg:"requestid"`
	Type      Int  `msg:"type"`
	Sid       Str  `msg:"sid"`
	Room      Room `msg:"room"`
}

// LegacyCustomRequest is customRequest: {requestid, type:5, data}.
type LegacyCustomRequest struct {
	RequestID Str `msg:"requestid"`
	Type      Int `msg:"type"`
	Data      Raw `msg:"data"`
}

// LegacyDisconnectRequest is remoteDisconnect:
// {requestid, type:6, sid, close}.
type LegacyDisconnectRequest struct {
	RequestID Str  `msg:"requestid"`
	Type      Int  `msg:"type"`
	Sid       Str  `msg:"sid"`
	Close     bool `msg:"close"`
}

// LegacyClientsResponse answers clients: {requestid, clients:[sid…]}.
type LegacyClientsResponse struct {
	RequestID Str     `msg:"requestid"`
	Clients   Strings `msg:"clients"`
}

// LegacyRoomsResponse answers clientRooms and allRooms:
// {requestid, rooms:[…]}.
type LegacyRoomsResponse struct {
	RequestID Str   `msg:"requestid"`
	Rooms     Rooms `msg:"rooms"`
}

// LegacyDataResponse answers customRequest: {requestid, data}.
type LegacyDataResponse struct {
	RequestID Str `msg:"requestid"`
	Data      Raw `msg:"data"`
}

// LegacyAckResponse answers remoteJoin, remoteLeave and
// remoteDisconnect: {requestid}.
type LegacyAckResponse struct {
	RequestID Str `msg:"requestid"`
}
