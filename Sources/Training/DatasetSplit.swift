import ActionNet
import Foundation

/// Which samples train and which validate. Stratified: each class gives about
/// `validationFraction` of its samples to validation (at least one when it has two or
/// more, never all). Groups (see `SplitGrouping`) stay whole on one side; a group
/// counts for the class most of its samples have. The same samples, fraction, grouping
/// and seed always give the same split. Stored with its run as JSON.
public struct DatasetSplit: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var validationFraction: Double
    public var groupBy: SplitGrouping
    /// Sample ids (clip paths, or `#row` of a tensor file) in dataset order.
    public var training: [String]
    public var validation: [String]

    public init(seed: UInt64, validationFraction: Double, groupBy: SplitGrouping, training: [String], validation: [String]) {
        self.seed = seed
        self.validationFraction = validationFraction
        self.groupBy = groupBy
        self.training = training
        self.validation = validation
    }

    /// Splits `samples` (whose class indices are below `classes`).
    public static func make(_ samples: [SampleInfo], classes: Int, validationFraction: Double,
                            groupBy: SplitGrouping = .none, seed: UInt64) -> DatasetSplit {
        var members: [String: [Int]] = [:]
        for (i, s) in samples.enumerated() { members[groupBy.group(of: s.id), default: []].append(i) }
        // A group belongs to the class most of its samples have (the lowest index on ties).
        var groupsOfClass = [[String]](repeating: [], count: classes)
        var samplesOfClass = [Int](repeating: 0, count: classes)
        for (group, indices) in members {
            var votes = [Int](repeating: 0, count: classes)
            for i in indices { votes[samples[i].classIndex] += 1 }
            let owner = votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!
            groupsOfClass[owner].append(group)
            samplesOfClass[owner] += indices.count
        }
        var validationGroups = Set<String>()
        if validationFraction > 0 {
            for c in 0..<classes {
                let total = samplesOfClass[c]
                guard total >= 2 else { continue }
                let target = min(max(Int((Double(total) * validationFraction).rounded()), 1), total - 1)
                var random = SeededGenerator(seed: seed ^ (0xA5A5_5A5A_1234_5678 &* UInt64(c + 1)))
                var order = groupsOfClass[c].sorted()
                order.shuffle(using: &random)
                var taken = 0
                for group in order where taken < target {
                    let size = members[group]!.count
                    if taken + size > total - 1 { continue }   // never the whole class
                    validationGroups.insert(group)
                    taken += size
                }
            }
        }
        var training: [String] = [], validation: [String] = []
        for s in samples {
            if validationGroups.contains(groupBy.group(of: s.id)) { validation.append(s.id) } else { training.append(s.id) }
        }
        return DatasetSplit(seed: seed, validationFraction: validationFraction, groupBy: groupBy,
                            training: training, validation: validation)
    }

    /// The positions in `set` of the training and validation samples, and the ids the
    /// split names that `set` no longer has (a clip relabelled or deleted since).
    public func indices(in set: SampleSet) -> (training: [Int], validation: [Int], missing: [String]) {
        var position: [String: Int] = [:]
        for (i, s) in set.samples.enumerated() { position[s.id] = i }
        var missing: [String] = []
        func find(_ ids: [String]) -> [Int] {
            ids.compactMap { id in
                guard let i = position[id] else { missing.append(id); return nil }
                return i
            }
        }
        return (find(training), find(validation), missing)
    }

    /// The split as the JSON stored in the run record.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func decode(json: String) throws(TrainingError) -> DatasetSplit {
        do { return try JSONDecoder().decode(DatasetSplit.self, from: Data(json.utf8)) }
        catch { throw TrainingError("the run's split is not readable JSON: \(error)") }
    }

    enum CodingKeys: String, CodingKey {
        case seed, training, validation
        case validationFraction = "validation_fraction", groupBy = "group_by"
    }
}
