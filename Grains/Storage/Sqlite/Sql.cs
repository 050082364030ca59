using Microsoft.Data.Sqlite;

namespace Messenger.Grains.Storage.Sqlite;

/// <summary>Parameter binding that reuses a prepared command's parameter objects.</summary>
internal static class Sql
{
    /// <summary>Sets a parameter's value, adding the parameter only the first time the command is used.</summary>
    public static void Bind(SqliteCommand command, string name, object value)
    {
        var parameters = command.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].ParameterName == name)
            {
                parameters[i].Value = value;
                return;
            }
        }
        parameters.AddWithValue(name, value);
    }
}
