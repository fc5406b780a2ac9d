package dev.mmlab.api.testing;

import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.pgtable.PteTable;
import java.util.Map;
import java.util.TreeMap;

/** What a test compares before and after a call that must change nothing: the maps text and every PTE. */
public record MmSnapshot(String maps, Map<Long, String> ptes, long brk) {
    public static MmSnapshot of(Mm mm) {
        Map<Long, String> ptes = new TreeMap<>();
        for (PteTable t : mm.pageTables().allTables()) {
            t.ptl().lock();
            try {
                for (int i = 0; i < PteTable.ENTRIES; i++) {
                    Page p = t.pageAt(i);
                    if (p != null) {
                        ptes.put(t.addressOf(i), p.kind() + ":" + p.content() + ":" + t.bitsAt(i));
                    }
                }
            } finally {
                t.ptl().unlock();
            }
        }
        return new MmSnapshot(mm.procMaps(), ptes, mm.brkValue());
    }
}
