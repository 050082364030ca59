global using Xunit;
global using ErrorCode = Messenger.Grains.ErrorCode;
