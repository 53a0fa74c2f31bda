namespace Lotse.Streaming.Spdy;

/// <summary>SPDY/3 control frame types (the protocol's numbers).</summary>
public enum SpdyFrameType : ushort
{
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}
