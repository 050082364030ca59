// Orleans has its own ErrorCode; ours is the wire catalogue.
global using ErrorCode = Messenger.Grains.ErrorCode;
