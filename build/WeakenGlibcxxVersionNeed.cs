// Makes TorchSharp's native shim load on systems whose libstdc++ predates GLIBCXX_3.4.32
// (Debian 12 ships 3.4.30). libLibTorchSharp.so lists GLIBCXX_3.4.32 in its version needs only
// because of std::ios_base_library_init, a link-time marker with no relocation: nothing calls it.
// Flagging that one need VER_FLG_WEAK turns the loader's hard error into nothing at all.
// The file is used twice: as an MSBuild inline task (build/TorchSharpNative.targets) and,
// compiled with PISA_ELF_HELPER_ONLY, by the tests that prove the patch is idempotent.
using System;
using System.IO;
using System.Text;

namespace Pisa.Build
{
    public static class ElfVersionNeeds
    {
        public const ushort VerFlagWeak = 0x2;

        public enum Outcome { Patched, AlreadyWeak, NotNeeded, NotElf }

        /// <summary>Sets VER_FLG_WEAK on the version need <paramref name="version"/> of <paramref name="library"/> in place.</summary>
        public static Outcome MarkWeak(string path, string library, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            long offset = FindVernauxFlags(elf, library, version, out ushort flags);
            if (offset == -2) return Outcome.NotElf;
            if (offset < 0) return Outcome.NotNeeded;
            if ((flags & VerFlagWeak) != 0) return Outcome.AlreadyWeak;
            flags |= VerFlagWeak;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
            {
                stream.Position = offset;
                stream.Write(BitConverter.GetBytes(flags), 0, 2);
            }
            return Outcome.Patched;
        }

        /// <summary>The flags of the version need, or null when the file does not need that version.</summary>
        public static ushort? ReadFlags(string path, string library, string version)
        {
            long offset = FindVernauxFlags(File.ReadAllBytes(path), library, version, out ushort flags);
            return offset < 0 ? (ushort?)null : flags;
        }

        /// <summary>True when a system library file defines the version (its name appears in the file).</summary>
        public static bool FileMentions(string path, string version)
        {
            if (!File.Exists(path)) return false;
            byte[] text = File.ReadAllBytes(path);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 0; i + needle.Length <= text.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && text[i + j] == needle[j]) j++;
                if (j == needle.Length) return true;
            }
            return false;
        }

        // Walks .gnu.version_r (SHT_GNU_verneed) of a little-endian ELF64 file.
        // Returns the file offset of the matching Vernaux's vna_flags, -1 if absent, -2 if not ELF64 LE.
        private static long FindVernauxFlags(byte[] elf, string library, string version, out ushort flags)
        {
            flags = 0;
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F'
                || elf[4] != 2 || elf[5] != 1)
                return -2;
            long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            const uint ShtGnuVerneed = 0x6ffffffe;
            for (int s = 0; s < shnum; s++)
            {
                long sh = shoff + (long)s * shentsize;
                if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
                long secOffset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
                int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
                long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
                long need = secOffset;
                while (true)
                {
                    int cnt = BitConverter.ToUInt16(elf, (int)need + 2);
                    string file = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)need + 4));
                    long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        string name = ReadCString(elf, strtab + BitConverter.ToUInt32(elf, (int)aux + 8));
                        if (file == library && name == version)
                        {
                            flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                            return aux + 4;
                        }
                        uint nextAux = BitConverter.ToUInt32(elf, (int)aux + 12);
                        if (nextAux == 0) break;
                        aux += nextAux;
                    }
                    uint next = BitConverter.ToUInt32(elf, (int)need + 12);
                    if (next == 0) break;
                    need += next;
                }
            }
            return -1;
        }

        private static string ReadCString(byte[] bytes, long start)
        {
            long end = start;
            while (end < bytes.Length && bytes[end] != 0) end++;
            return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
        }
    }

#if !PISA_ELF_HELPER_ONLY
    /// <summary>MSBuild task: weakens a version need in each given file when the system library lacks it.</summary>
    public class WeakenVersionNeed : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = new Microsoft.Build.Framework.ITaskItem[0];
        [Microsoft.Build.Framework.Required] public string Library { get; set; } = "";
        [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";
        public string[] SystemLibraryPaths { get; set; } = new string[0];

        public override bool Execute()
        {
            foreach (string candidate in SystemLibraryPaths)
            {
                if (ElfVersionNeeds.FileMentions(candidate, Version))
                {
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "{0} defines {1}: nothing to patch.", candidate, Version);
                    return true;
                }
            }
            foreach (var item in Files)
            {
                var outcome = ElfVersionNeeds.MarkWeak(item.ItemSpec, Library, Version);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "{0}: {1} {2}", item.ItemSpec, Version, outcome);
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
