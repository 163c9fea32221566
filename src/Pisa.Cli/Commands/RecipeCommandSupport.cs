using Pisa.Recipes;

namespace Pisa.Cli.Commands;

/// <summary>Loading one recipe for explain and variants (and later train): diagnostics to stderr, user errors as <see cref="PisaUserException"/>.</summary>
internal static class RecipeCommandSupport
{
    /// <summary>The loaded recipe, warnings printed; throws a user error listing every error.</summary>
    public static RecipeLoadResult Load(string path, IEnumerable<string> overrides)
    {
        RecipeLoadResult result = new RecipeLoader().LoadFile(path, overrides);
        if (result.HasErrors) throw new PisaUserException(string.Join(Environment.NewLine, result.Diagnostics));
        foreach (DiagnosticInfo warning in result.Diagnostics) Console.Error.WriteLine(warning);
        return result;
    }

    /// <summary>The recipe itself, or the named variant point.</summary>
    public static Recipe Select(RecipeLoadResult result, string? variant)
    {
        if (variant is null) return result.Recipe!;
        return result.SelectVariant(variant, out DiagnosticInfo? error) ?? throw new PisaUserException(error!.ToString());
    }
}
