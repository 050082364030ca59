using System.Text.Json.Serialization;

namespace Messenger.Grains.Push;

/// <summary>The JSON the push pipeline writes: the devices a notification still goes to.</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class PushJson : JsonSerializerContext;
